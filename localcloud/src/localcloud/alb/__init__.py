"""The simulated Application Load Balancer: one HTTP listener on 127.0.0.1 per load balancer in
the emulator, forwarding to the targets the ECS simulator reports routable, with the ALB's own
error pages and CloudWatch metrics. It knows nothing of ECS: a :class:`Routing` tells it where
requests may go."""

from localcloud.alb.front import IDLE_TIMEOUT_SECONDS, AlbFront, Routing

__all__ = ["IDLE_TIMEOUT_SECONDS", "AlbFront", "Routing"]
