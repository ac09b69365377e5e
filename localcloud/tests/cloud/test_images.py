"""Image records: the image's configuration is what the Dockerfile says, digests are stable and
distinct, and a push goes through the ECR API like a registry client's."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError
from localcloud.emulator import ACCOUNT_ID, Endpoint, client
from localcloud.errors import PushRefusedError
from localcloud.images import records
from localcloud.images.oci import ImageConfig, ImageFormatError, Manifest, digest_of
from localcloud.moto_fixes.ecr import ecr_blob


def test_record_config_says_what_the_dockerfile_says() -> None:
    record = records.service_image("1.2.3", "abc123")
    config = ImageConfig.from_json(record.config_blob)
    assert config.entrypoint == ("app-serve",)
    assert config.cmd == ()
    assert config.env["APP_VERSION"] == "1.2.3"
    assert config.env["APP_COMMIT"] == "abc123"
    assert (config.env["HOST"], config.env["PORT"]) == ("0.0.0.0", "8000")
    assert config.labels["org.opencontainers.image.revision"] == "abc123"
    assert record.manifest.config_digest == digest_of(record.config_blob)
    assert [d for d, _ in record.manifest.layers] == [digest_of(b) for b in record.layer_blobs]


def test_records_are_deterministic_and_a_baked_in_setting_is_another_image() -> None:
    same = records.service_image("1.2.3", "abc123")
    assert same.manifest == records.service_image("1.2.3", "abc123").manifest
    broken = records.service_image("1.2.3", "abc123", {"APP_ENVIRONMENT": "broken"})
    assert ImageConfig.from_json(broken.config_blob).env["APP_ENVIRONMENT"] == "broken"
    assert broken.manifest.layers != same.manifest.layers


def test_bad_configurations_are_refused() -> None:
    with pytest.raises(ImageFormatError):
        ImageConfig.from_json(b"not json")
    with pytest.raises(ImageFormatError):
        ImageConfig.from_json(json.dumps({"config": {"Env": ["NOEQUALS"]}}).encode())
    with pytest.raises(ImageFormatError):
        Manifest.from_json('{"schemaVersion": 2}')


@pytest.fixture
def repository(endpoint: Endpoint) -> str:
    ecr = client(endpoint.url, endpoint.region, "ecr")
    name = f"images-{len(ecr.describe_repositories()['repositories'])}"
    ecr.create_repository(repositoryName=name, imageTagMutability="IMMUTABLE")
    return name


def test_push_uploads_blobs_and_tags_through_the_ecr_api(
    endpoint: Endpoint, repository: str
) -> None:
    ecr = client(endpoint.url, endpoint.region, "ecr")
    record = records.service_image("1.2.3", "abc123")
    pushed = records.push(ecr, repository, record, ["abc123", "latest"])

    described = ecr.describe_images(repositoryName=repository)["imageDetails"]
    assert [(d["imageDigest"], sorted(d["imageTags"])) for d in described] == [
        (pushed.digest, ["abc123", "latest"])
    ]
    layers = ecr.batch_check_layer_availability(
        repositoryName=repository, layerDigests=[digest_of(b) for b in record.blobs]
    )["layers"]
    assert {layer["layerAvailability"] for layer in layers} == {"AVAILABLE"}
    # The emulated registry serves the configuration back, as the task runtime reads it.
    blob = ecr_blob(ACCOUNT_ID, endpoint.region, repository, record.manifest.config_digest)
    assert blob == record.config_blob


def test_push_is_idempotent_but_an_immutable_tag_never_moves(
    endpoint: Endpoint, repository: str
) -> None:
    ecr = client(endpoint.url, endpoint.region, "ecr")
    first = records.push(ecr, repository, records.service_image("1.2.3", "v1"), ["v1"])
    again = records.push(ecr, repository, records.service_image("1.2.3", "v1"), ["v1"])
    assert again.digest == first.digest
    other = records.service_image("1.2.3", "v1", {"APP_LOG_LEVEL": "DEBUG"})
    with pytest.raises(PushRefusedError, match="'v1' already names another image"):
        records.push(ecr, repository, other, ["v1"])
    assert len(ecr.describe_images(repositoryName=repository)["imageDetails"]) == 1


def test_push_to_a_missing_repository_fails_with_the_ecr_error(endpoint: Endpoint) -> None:
    ecr = client(endpoint.url, endpoint.region, "ecr")
    with pytest.raises(ClientError, match="RepositoryNotFoundException"):
        records.push(ecr, "does-not-exist", records.service_image("1", "x"), ["x"])
