"""What CloudWatch does by itself, which moto does not: evaluating metric alarms against the
metric data it holds (:mod:`.evaluator`, with the rules in :mod:`.evaluation` and metric math
in :mod:`.metricmath`). Beside the ALB at the bottom of localcloud's layers: it knows moto and
nothing of ECS; the ECS simulator runs it on its own time scale."""

from localcloud.cloudwatch.evaluator import AlarmEvaluator

__all__ = ["AlarmEvaluator"]
