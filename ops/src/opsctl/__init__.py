"""opsctl: the operations runbook as a CLI (status, deploy, rollback, redeploy, revisions,
logs, diagnose, watch)."""

__version__ = "0.1.0"
