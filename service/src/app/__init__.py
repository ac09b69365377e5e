"""The FastAPI workload operated by the runbook."""
