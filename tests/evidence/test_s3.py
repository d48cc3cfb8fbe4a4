"""The S3 store's settings, checked at start-up, and its failures: TASHAN_EVIDENCE_URL,
the endpoint, the key pair, store_for's choice, an unreachable server or a missing bucket."""

import hashlib
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from pydantic import ValidationError

from app.config import Settings
from app.evidence.s3 import S3Store, S3Unavailable
from app.evidence.store import DirectoryStore, store_for
from app.evidence.urls import S3Location, parse_s3_url
from tests.helpers import S3_KEY_ID, S3_REGION, S3_SECRET, free_port, run_tashan, s3_env

DIGEST = "0" * 64


@pytest.mark.parametrize(
    ("url", "bucket", "prefix"),
    [
        ("s3://tashan-evidence", "tashan-evidence", ""),
        ("s3://tashan-evidence/", "tashan-evidence", ""),
        ("s3://tashan.evidence/prod/files/", "tashan.evidence", "prod/files"),
        ("s3://abc//a//b", "abc", "a/b"),
    ],
)
def test_an_s3_url_names_a_bucket_and_a_prefix(url: str, bucket: str, prefix: str) -> None:
    location = parse_s3_url(url)
    assert location == S3Location(bucket, prefix)
    assert location.key(DIGEST) == (f"{prefix}/{DIGEST}" if prefix else DIGEST)


@pytest.mark.parametrize(
    "url",
    [
        "tashan-evidence",
        "https://tashan-evidence.s3.amazonaws.com/x",
        "s3://",
        "s3:///prefix",
        "s3://ab",
        "s3://Tashan-Evidence",
        "s3://tashan_evidence",
        "s3://-tashan",
        "s3://tashan..evidence",
        "s3://key:secret@tashan-evidence",
        "s3://tashan-evidence:9000/x",
        "s3://tashan-evidence/x?versionId=1",
        "s3://tashan-evidence/../x",
        "s3://tashan-evidence/a b",
    ],
)
def test_a_url_that_names_no_bucket_is_refused_at_start_up(url: str) -> None:
    with pytest.raises(ValidationError, match="evidence_url"):
        Settings(evidence_url=url, _env_file=None)


@pytest.mark.parametrize(
    "endpoint", ["minio.local:9000", "ftp://minio.local", "http://", "http://h:x"]
)
def test_an_endpoint_must_be_an_http_url(endpoint: str) -> None:
    with pytest.raises(ValidationError, match="evidence_s3_endpoint"):
        Settings(evidence_url="s3://tashan-evidence", evidence_s3_endpoint=endpoint, _env_file=None)


def test_a_key_id_needs_its_secret_and_the_secret_its_id() -> None:
    for half in ({"evidence_s3_access_key_id": "id"}, {"evidence_s3_secret_access_key": "s"}):
        with pytest.raises(ValidationError, match="together, or neither"):
            Settings(_env_file=None, **half)  # type: ignore[arg-type]
    both = Settings(
        _env_file=None, evidence_s3_access_key_id="id", evidence_s3_secret_access_key="s"
    )
    assert "s" not in repr(both.evidence_s3_secret_access_key)


def test_store_for_picks_the_bucket_when_a_url_is_set(tmp_path: Path) -> None:
    folder = store_for(Settings(_env_file=None, evidence_dir=tmp_path / "evidence"))
    assert isinstance(folder, DirectoryStore)
    assert folder.location == str(tmp_path / "evidence")
    bucket = store_for(
        Settings(
            _env_file=None,
            evidence_dir=tmp_path / "evidence",
            evidence_url="s3://tashan-evidence/prod",
            evidence_s3_endpoint="http://127.0.0.1:9",
            evidence_s3_region="cn-north-1",
        )
    )
    assert isinstance(bucket, S3Store)
    assert bucket.location == "s3://tashan-evidence/prod"
    assert bucket.client.meta.endpoint_url == "http://127.0.0.1:9"
    assert bucket.client.meta.region_name == "cn-north-1"


def test_the_command_stops_in_one_line_naming_a_bad_setting(database_url: str) -> None:
    result = run_tashan(database_url, "evidence", "verify", env={"TASHAN_EVIDENCE_URL": "s3://x"})
    assert result.returncode == 1
    assert result.stderr.startswith("error: a setting is not valid: TASHAN_EVIDENCE_URL")
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_standard_aws_variables_are_used_when_the_tashan_ones_are_unset(
    s3_endpoint: str, s3_store: S3Store, database_url: str, tmp_path: Path
) -> None:
    url = f"s3://{s3_store.where.bucket}/evidence/test"
    env = {
        "TASHAN_EVIDENCE_URL": url,
        "AWS_ENDPOINT_URL_S3": s3_endpoint,
        "AWS_REGION": S3_REGION,
        "AWS_ACCESS_KEY_ID": S3_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": S3_SECRET,
    }
    result = run_tashan(database_url, "evidence", "verify", env=env)
    assert result.returncode == 0, result.stderr
    assert f"0 files verified in {url}" in result.stdout


def test_an_unreachable_server_is_an_os_error_naming_the_bucket() -> None:
    client = boto3.session.Session().client(
        "s3",
        endpoint_url=f"http://127.0.0.1:{free_port()}",
        region_name=S3_REGION,
        aws_access_key_id=S3_KEY_ID,
        aws_secret_access_key=S3_SECRET,
        config=Config(retries={"max_attempts": 1}, connect_timeout=1),
    )
    store = S3Store(S3Location("tashan-evidence", "x"), client)
    with pytest.raises(S3Unavailable, match="s3://tashan-evidence/x"):
        store.exists(DIGEST)
    with pytest.raises(OSError):
        list(store.digests())


def test_a_missing_bucket_is_an_os_error_not_a_missing_file(
    s3_endpoint: str, s3_store: S3Store, database_url: str, tmp_path: Path
) -> None:
    store = S3Store(S3Location("tashan-no-such-bucket", "x"), s3_store.client)
    with pytest.raises(S3Unavailable, match="NoSuchBucket"):
        list(store.digests())
    upload = tmp_path / "upload"
    upload.write_bytes(b"x")
    with pytest.raises(S3Unavailable, match="NoSuchBucket"):
        store.put(hashlib.sha256(b"x").hexdigest(), upload)
    with pytest.raises(S3Unavailable, match="NoSuchBucket"):
        store.open(DIGEST)
    result = run_tashan(
        database_url,
        "evidence",
        "verify",
        env=s3_env(s3_endpoint, "s3://tashan-no-such-bucket/x"),
    )
    assert result.returncode == 1
    assert "error: evidence files: s3://tashan-no-such-bucket/x" in result.stderr
    assert "Traceback" not in result.stderr
