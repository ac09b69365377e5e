"""opsctl: the operations runbook as a CLI."""
