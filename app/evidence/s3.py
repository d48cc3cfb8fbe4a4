"""The evidence store in an S3-compatible bucket (TASHAN_EVIDENCE_URL=s3://bucket/prefix),
for deployments on several machines: AWS S3, MinIO, Ceph, Aliyun OSS, Tencent COS, … through
boto3, the maintained AWS SDK that speaks to all of them.

Objects are named <prefix>/<digest>. S3 makes an object visible only once it is whole (a
multipart upload when it is completed), so a reader never sees part of a file under its
digest, and since the name is the content, two machines storing the same file at once store
the same bytes."""

import io
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import boto3
from boto3.exceptions import S3UploadFailedError
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from app.evidence.store import CHUNK, DIGEST, MissingEvidence
from app.evidence.urls import S3Location, parse_s3_url

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from app.config import Settings

# Files above 8 MiB go up in 8 MiB parts read from the file as they are sent, two at a time:
# an upload holds a few parts' worth of memory at most, never the whole file.
TRANSFER = TransferConfig(
    multipart_threshold=8 * 1024 * 1024,
    multipart_chunksize=8 * 1024 * 1024,
    max_concurrency=2,
)
NOT_FOUND = {"404", "NoSuchKey", "NotFound"}


class S3Unavailable(OSError):
    """The bucket could not be reached or refused the request (credentials, permissions, a
    missing bucket, the network): an OSError, as a failing disk is for the directory store."""


@contextmanager
def _failures(location: S3Location) -> Iterator[None]:
    """botocore's errors, other than a missing object, as S3Unavailable naming the bucket."""
    try:
        yield
    except ClientError as error:
        if _code(error) in NOT_FOUND:
            raise
        raise S3Unavailable(f"{location}: {error}") from error
    except (BotoCoreError, S3UploadFailedError) as error:  # upload_file wraps its failures
        raise S3Unavailable(f"{location}: {error}") from error


class S3Store:
    """Files in a bucket under <prefix>/<digest>; nothing is ever deleted."""

    def __init__(self, location: S3Location, client: "S3Client", page_size: int = 1000) -> None:
        self.where = location
        self.client = client
        self.page_size = page_size  # keys per listing request (S3's most); tests make it small

    @classmethod
    def from_settings(cls, settings: "Settings") -> "S3Store":
        """The store TASHAN_EVIDENCE_URL names, with a client from the S3 settings."""
        if settings.evidence_url is None:
            raise ValueError("TASHAN_EVIDENCE_URL is not set")
        secret = settings.evidence_s3_secret_access_key
        client = s3_client(
            settings.evidence_s3_endpoint,
            settings.evidence_s3_region,
            settings.evidence_s3_access_key_id,
            secret.get_secret_value() if secret else None,
        )
        return cls(parse_s3_url(settings.evidence_url), client)

    @property
    def location(self) -> str:
        return str(self.where)

    def _key(self, digest: str) -> str:
        if not DIGEST.match(digest):
            raise ValueError(f"not a sha256 digest: {digest!r}")
        return self.where.key(digest)

    def put(self, digest: str, path: Path) -> None:
        key = self._key(digest)
        if self.exists(digest):
            return
        with _failures(self.where):
            # upload_file reads the file part by part (multipart above the threshold) and retries
            # failed parts; the object appears only once every part is in.
            self.client.upload_file(
                str(path),
                self.where.bucket,
                key,
                ExtraArgs={
                    "ContentType": "application/octet-stream",
                    "Metadata": {"sha256": digest},
                },
                Config=TRANSFER,
            )

    def open(self, digest: str) -> BinaryIO:
        key = self._key(digest)
        try:
            with _failures(self.where):
                response = self.client.get_object(Bucket=self.where.bucket, Key=key)
        except ClientError as error:
            if _code(error) in NOT_FOUND:
                raise MissingEvidence(digest) from None
            raise
        return io.BufferedReader(_StreamingReader(response["Body"]), CHUNK)

    def exists(self, digest: str) -> bool:
        # A HEAD has no body to tell a missing object from a missing bucket: both are False
        # here; the next put or listing then fails with NoSuchBucket.
        key = self._key(digest)
        try:
            with _failures(self.where):
                self.client.head_object(Bucket=self.where.bucket, Key=key)
        except ClientError as error:
            if _code(error) in NOT_FOUND:
                return False
            raise
        return True

    def digests(self) -> Iterator[str]:
        start = f"{self.where.prefix}/" if self.where.prefix else ""
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.where.bucket, Prefix=start, PaginationConfig={"PageSize": self.page_size}
        )
        with _failures(self.where):
            for page in pages:
                for item in page.get("Contents", []):
                    name = item["Key"][len(start) :]
                    if DIGEST.match(name):
                        yield name


class _StreamingReader(io.RawIOBase):
    """botocore's streaming body as a raw binary stream, so the store hands out a real
    BinaryIO (read(n), readinto, iteration, close) that reads the object as it is consumed."""

    def __init__(self, body: Any) -> None:
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        try:
            data = self._body.read(len(view))
        except BotoCoreError as error:  # the connection broke or the checksum did not match
            raise S3Unavailable(str(error)) from error
        view[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._body.close()
        super().close()


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


@lru_cache(maxsize=8)
def s3_client(
    endpoint: str | None,
    region: str | None,
    access_key_id: str | None,
    secret_access_key: str | None,
) -> "S3Client":
    """One client per configuration (boto3 clients are thread-safe; making one costs tens of
    milliseconds). Unset values fall back to boto3's own sources (AWS_* variables, ~/.aws,
    an instance role). Bounded timeouts and retries, so a bucket that does not answer fails a
    request instead of hanging it."""
    session = boto3.session.Session()
    client: S3Client = session.client(
        "s3",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret_access_key,
        config=Config(
            connect_timeout=5,
            read_timeout=60,
            retries={"max_attempts": 5, "mode": "standard"},
        ),
    )
    return client
