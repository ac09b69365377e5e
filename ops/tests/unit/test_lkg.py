"""Last known good from revision tags and live COMPLETED deployments."""

from __future__ import annotations

from datetime import timedelta

from opsctl import lkg


def tags(**values: str) -> dict[str, str]:
    return {f"opsctl:{k.replace('_', '-')}": v for k, v in values.items()}


def test_verified_revision_is_good(make):
    definition = make.task_definition(2, tags=tags(verified_at="2026-01-01T10:00:00+00:00"))
    verdict = lkg.verdict(definition, {})
    assert verdict.good
    assert verdict.good_since is not None


def test_a_later_failure_or_rollback_makes_it_bad(make):
    failed = make.task_definition(
        3,
        tags=tags(
            verified_at="2026-01-01T10:00:00+00:00",
            failed_at="2026-01-01T11:00:00+00:00",
            failed_outcome="unverified",
        ),
    )
    assert not lkg.verdict(failed, {}).good
    assert lkg.verdict(failed, {}).bad_reason == "unverified"
    rolled = make.task_definition(
        4,
        tags=tags(
            verified_at="2026-01-01T10:00:00+00:00", rolled_back_at="2026-01-01T12:00:00+00:00"
        ),
    )
    assert lkg.verdict(rolled, {}).bad_reason == "rolled back"


def test_the_rollback_after_a_failure_keeps_the_failure_as_the_reason(make):
    # deploy --rollback-on-failure tags the failure, then the rollback, a second or more later
    # on a busy machine (drill 10 once showed "rolled back" instead of "bake_failed").
    baked = make.task_definition(
        5,
        tags=tags(
            failed_at="2026-01-01T11:00:00+00:00",
            failed_outcome="bake_failed",
            rolled_back_at="2026-01-01T11:00:03+00:00",
        ),
    )
    verdict = lkg.verdict(baked, {})
    assert (verdict.good, verdict.bad_reason) == (False, "bake_failed")
    # Good again after the failure, then rolled back away from: the rollback is the news.
    again = make.task_definition(
        6,
        tags=tags(
            failed_at="2026-01-01T11:00:00+00:00",
            failed_outcome="bake_failed",
            verified_at="2026-01-01T12:00:00+00:00",
            rolled_back_at="2026-01-01T13:00:00+00:00",
        ),
    )
    verdict = lkg.verdict(again, {})
    assert (verdict.good, verdict.bad_reason) == (False, "rolled back")


def test_live_completed_deployment_counts_as_good(make):
    definition = make.task_definition(1)
    assert lkg.verdict(definition, {definition.arn: make.T0}).good
    assert not lkg.verdict(definition, {}).good


def test_last_known_good_is_the_most_recently_verified_not_n_minus_1(make):
    v1 = lkg.verdict(
        make.task_definition(1, tags=tags(verified_at="2026-01-01T09:00:00+00:00")), {}
    )
    v2 = lkg.verdict(
        make.task_definition(2, tags=tags(verified_at="2026-01-01T10:00:00+00:00")), {}
    )
    v3 = lkg.verdict(make.task_definition(3, tags=tags(failed_at="2026-01-01T11:00:00+00:00")), {})
    v4 = lkg.verdict(make.task_definition(4), {})
    assert lkg.last_known_good([v1, v2, v3, v4], exclude=[v4.arn]).revision == 2
    assert lkg.last_known_good([v1, v2, v3, v4], exclude=[v2.arn]).revision == 1
    assert lkg.last_known_good([v3, v4]) is None


def test_restored_only_while_the_restoring_deployment_runs(make):
    restored = make.task_definition(
        2, tags=tags(verified_deployment="ecs-svc/9", restored_from="3")
    )
    same = make.service(make.deployment("ecs-svc/9", 2))
    assert lkg.restored(restored, same) == 3
    redeployed = make.service(make.deployment("ecs-svc/10", 2))
    assert lkg.restored(restored, redeployed) is None


def test_live_completed_uses_deployment_time(make):
    service = make.service(make.deployment("ecs-svc/1", 1))
    assert lkg.live_completed(service) == {make.ARN.format(1): make.T0 + timedelta(minutes=2)}
