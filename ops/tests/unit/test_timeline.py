"""The timeline's core (opsctl.timeline): who started what, verdicts, diffs, images, alarms,
Terraform, merged newest first; no AWS."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from opsctl import lkg, timeline
from opsctl.model import (
    AlarmStateChange,
    Image,
    ObjectVersion,
    ServiceDeploymentRecord,
    ServiceRevisionRecord,
    TrailEvent,
)
from opsctl.results import ChangeEntry, ChangeKind

T0 = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
SINCE = T0 - timedelta(hours=1)
ACCOUNT = "arn:aws:ecs:us-east-1:123456789012"
DEPLOYER = "arn:aws:sts::123456789012:assumed-role/fastapi-github-deploy-prod/GitHubActions"
PERSON = "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Admin_1a2b/jane@example.com"
DIGEST_A = "sha256:" + "a" * 64
DIGEST_B = "sha256:" + "b" * 64
REPO = "123456789012.dkr.ecr.us-east-1.amazonaws.com/api"


def revision(number: str, td: int, digest: str = DIGEST_B) -> ServiceRevisionRecord:
    return ServiceRevisionRecord(
        arn=f"{ACCOUNT}:service-revision/api-cluster/api/{number}",
        task_definition=f"{ACCOUNT}:task-definition/api:{td}",
        images=((f"{REPO}@{digest}", digest),),
    )


OLD = revision("111", 1, DIGEST_A)
NEW = revision("222", 2)


def service_deployment(**changes: object) -> ServiceDeploymentRecord:
    base = ServiceDeploymentRecord(
        arn=f"{ACCOUNT}:service-deployment/api-cluster/api/Xy12",
        status="SUCCESSFUL",
        status_reason="Service deployment completed successfully.",
        created_at=T0,
        finished_at=T0 + timedelta(minutes=3),
        target_revision=NEW.arn,
        source_revisions=(OLD.arn,),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def update(at: datetime, who: str, deployment_id: str | None, **request: object) -> TrailEvent:
    response = (
        {"service": {"deployments": [{"id": deployment_id, "status": "PRIMARY"}]}}
        if deployment_id
        else {}
    )
    return TrailEvent(
        id=f"e-{at.timestamp()}",
        name="UpdateService",
        at=at,
        who=who,
        user_agent="opsctl/0.1",
        request={"cluster": "api-cluster", "service": "api", **request},
        response=response,
    )


def entries(records, trail=(), definitions=None):
    return timeline.deployment_entries(
        records,
        {r.arn: r for r in (OLD, NEW)},
        list(trail),
        definitions or {},
        cluster="api-cluster",
        service="api",
    )


def test_who_started_a_deployment_comes_from_cloudtrail_by_its_id(make):
    other = update(T0, PERSON, "ecs-svc/999")  # another deployment, same second
    ours = update(T0 - timedelta(seconds=1), DEPLOYER, "ecs-svc/222")
    (entry,) = entries([service_deployment()], [other, ours])
    assert entry.kind is ChangeKind.DEPLOYMENT
    assert entry.subject == "ecs-svc/222"
    assert entry.summary == "ecs-svc/222 api:1 → api:2"
    assert (entry.who, entry.who_source) == (DEPLOYER, "CloudTrail UpdateService")
    assert entry.revision == 2
    assert entry.details[0] == "SUCCESSFUL: Service deployment completed successfully."
    assert f"image {timeline.shorten(DIGEST_B)}" in entry.details


def test_events_of_another_service_or_cluster_do_not_count():
    elsewhere = update(T0, PERSON, "ecs-svc/222", cluster="other-cluster")
    (entry,) = entries([service_deployment()], [elsewhere])
    assert entry.who is None


def test_without_the_response_the_update_just_before_is_the_one():
    early = update(T0 - timedelta(minutes=5), PERSON, None)
    recent = update(T0 - timedelta(seconds=2), DEPLOYER, None, service=f"{ACCOUNT}:service/x/api")
    (entry,) = entries([service_deployment()], [early, recent])
    assert entry.who == DEPLOYER


def test_without_cloudtrail_opsctl_s_tags_say_who(make):
    definition = make.task_definition(
        2,
        tags={
            lkg.VERIFIED_DEPLOYMENT: "ecs-svc/222",
            lkg.VERIFIED_BY: f"{DEPLOYER} https://github.com/o/r/actions/runs/7",
        },
    )
    (entry,) = entries([service_deployment()], [], {NEW.task_definition: definition})
    assert (entry.who, entry.who_source) == (DEPLOYER, "opsctl tag")
    assert entry.run_url == "https://github.com/o/r/actions/runs/7"
    other = replace(definition, tags={**definition.tags, lkg.VERIFIED_DEPLOYMENT: "ecs-svc/1"})
    (entry,) = entries([service_deployment()], [], {NEW.task_definition: other})
    assert entry.who is None  # a verdict on another deployment of that revision says nothing


def test_a_rollback_is_its_own_entry_with_who_stopped_it():
    record = service_deployment(
        status="ROLLBACK_SUCCESSFUL",
        status_reason="Service deployment rolled back.",
        rollback_started_at=T0 + timedelta(minutes=1),
        rollback_reason="ROLLBACK requested by StopServiceDeployment",
        rollback_revision=OLD.arn,
    )
    stop = TrailEvent(
        "s1",
        "StopServiceDeployment",
        T0 + timedelta(minutes=1),
        PERSON,
        None,
        {"serviceDeploymentArn": record.arn},
    )
    deployment, rollback = sorted(entries([record], [stop]), key=lambda e: e.at)
    assert rollback.kind is ChangeKind.ROLLBACK
    assert rollback.summary == "ecs-svc/222 rolled back to api:1"
    assert (rollback.who, rollback.who_source) == (PERSON, "CloudTrail StopServiceDeployment")
    assert f"stopped by {PERSON} (CloudTrail StopServiceDeployment)" in deployment.details


def test_verdicts_since_the_window_with_their_own_author(make):
    definition = make.task_definition(
        3,
        tags={
            lkg.FAILED_AT: (T0 + timedelta(minutes=5)).isoformat(),
            lkg.FAILED_OUTCOME: "rolled_back",
            lkg.FAILED_BY: DEPLOYER,
            lkg.FAILED_DEPLOYMENT: "ecs-svc/333",
            lkg.ROLLED_BACK_AT: (T0 + timedelta(minutes=9)).isoformat(),
            lkg.ROLLED_BACK_BY: PERSON,
            lkg.VERIFIED_AT: (SINCE - timedelta(days=1)).isoformat(),  # before the window
        },
    )
    found = {e.summary: e for e in timeline.verdict_entries([definition], SINCE)}
    assert set(found) == {"api:3 marked rolled_back", "api:3 rolled back from"}
    assert found["api:3 marked rolled_back"].who == DEPLOYER
    assert found["api:3 marked rolled_back"].details == ("deployment ecs-svc/333",)
    assert found["api:3 rolled back from"].who == PERSON


def test_a_new_revision_shows_what_differs_from_the_one_before(make):
    before = make.task_definition(1, image=f"{REPO}@{DIGEST_A}")
    after = make.task_definition(
        2, image=f"{REPO}@{DIGEST_B}", registered_at=T0, environment=(("LOG_LEVEL", "debug"),)
    )
    (entry,) = timeline.task_definition_entries([after, before], {1: before, 2: after}, SINCE)
    assert entry.summary == "api:2 registered: 2 change(s) from :1"
    assert "app.image: api@sha256:aaaaaaaa… → api@sha256:bbbbbbbb…" in entry.details
    assert any(line.startswith("app.environment[0]: - → ") for line in entry.details)
    assert {c.path for c in entry.changes} == {
        "containerDefinitions[0].image",
        "containerDefinitions[0].environment[0]",
    }


def test_a_revision_whose_predecessor_is_gone_says_so(make):
    after = make.task_definition(5, registered_at=T0)
    (entry,) = timeline.task_definition_entries([after], {5: after}, SINCE)
    assert entry.details == ("revision 4 could not be read to compare",)
    assert timeline.task_definition_entries([after], {}, T0 + timedelta(seconds=1)) == []


def put(at: datetime, tag: str, digest: str, who: str = DEPLOYER) -> TrailEvent:
    return TrailEvent(
        f"p-{tag}-{at.timestamp()}",
        "PutImage",
        at,
        who,
        None,
        {"repositoryName": "api", "imageTag": tag},
        {"image": {"imageId": {"imageDigest": digest, "imageTag": tag}}},
    )


def test_images_pushed_tagged_and_moved():
    deployed = (T0 + timedelta(minutes=2)).strftime("deployed-%Y%m%dT%H%M%SZ")
    images = [
        Image("api", "123456789012", DIGEST_B, ("v2", deployed), T0),
        Image("api", "123456789012", DIGEST_A, ("latest",), SINCE - timedelta(days=2)),
    ]
    trail = [
        put(T0, "v2", DIGEST_B),
        put(T0 + timedelta(minutes=4), "latest", DIGEST_B, PERSON),
        put(SINCE - timedelta(days=2), "latest", DIGEST_A),
    ]
    found = {e.summary: e for e in timeline.image_entries(images, trail, "api", SINCE)}
    assert found["pushed sha256:bbbbbbbb… (v2)"].who == DEPLOYER
    moved = found["tag latest moved to sha256:bbbbbbbb…"]
    assert moved.who == PERSON
    assert moved.details == ("it named sha256:aaaaaaaa… before",)
    protected = found[f"tagged sha256:bbbbbbbb… {deployed}"]
    assert protected.at == T0 + timedelta(minutes=2)
    assert protected.who is None  # from the tag's name: no CloudTrail event for it
    assert len(found) == 3  # the old push is outside the window


def test_alarm_and_terraform_entries():
    alarms = timeline.alarm_entries(
        [
            AlarmStateChange("api-5xx", T0, "OK", "ALARM", "Threshold Crossed: 3 datapoints"),
            AlarmStateChange("api-5xx", SINCE - timedelta(minutes=1), "ALARM", "OK", "ok"),
        ],
        SINCE,
    )
    assert [(a.summary, a.details) for a in alarms] == [
        ("api-5xx: OK → ALARM", ("Threshold Crossed: 3 datapoints",))
    ]
    url = "s3://tfstate-123456789012-us-east-1/prod/terraform.tfstate"
    written, deleted = timeline.terraform_entries(
        [
            ObjectVersion("prod/terraform.tfstate", "v2", T0, 2048, True),
            ObjectVersion("prod/terraform.tfstate", "v1", T0, None, False, delete_marker=True),
        ],
        url,
        SINCE,
    )
    assert (written.summary, written.details) == (
        "Terraform state written",
        ("version v2, 2048 bytes, current",),
    )
    assert deleted.summary == "Terraform state deleted"
    assert written.subject == url


def entry(kind: ChangeKind, minutes: int) -> ChangeEntry:
    return ChangeEntry(
        T0 + timedelta(minutes=minutes), kind, f"{kind}-{minutes}", "", (), None, None, None, None
    )


def test_merge_is_newest_first_and_stable_per_instant():
    merged = timeline.merge(
        [entry(ChangeKind.ALARM, 5), entry(ChangeKind.DEPLOYMENT, 1)],
        [entry(ChangeKind.TASK_DEFINITION, 1), entry(ChangeKind.TERRAFORM, 9)],
    )
    assert [e.subject for e in merged] == [
        "terraform-9",
        "alarm-5",
        "deployment-1",
        "task_definition-1",
    ]


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (8, "deployment-2"),  # the alarm at 5 and the verdict at 6 are consequences
        (2, "deployment-2"),
        (1, "image-0"),
        (-1, None),
    ],
)
def test_nearest_before_is_the_latest_change_to_what_runs(when, expected):
    entries_ = [
        entry(ChangeKind.IMAGE, 0),
        entry(ChangeKind.DEPLOYMENT, 2),
        entry(ChangeKind.ALARM, 5),
        entry(ChangeKind.VERDICT, 6),
        entry(ChangeKind.TERRAFORM, 9),
    ]
    found = timeline.nearest_before(entries_, T0 + timedelta(minutes=when))
    assert (found.subject if found else None) == expected


def test_shorten_and_split_by():
    assert timeline.shorten(f"{REPO}@{DIGEST_A}") == "api@sha256:aaaaaaaa…"
    assert timeline.shorten("x" * 100, 10) == "x" * 9 + "…"
    assert timeline.split_by(f"{DEPLOYER} https://github.com/o/r/actions/runs/7") == (
        DEPLOYER,
        "https://github.com/o/r/actions/runs/7",
    )
    assert timeline.split_by(None) == (None, None)
