"""The S3 settings read at start-up: TASHAN_EVIDENCE_URL (s3://bucket/prefix) and
TASHAN_EVIDENCE_S3_ENDPOINT, checked here so a typo stops the server and every command in one
line (app/config.py) rather than at the first upload. No boto3 here: the settings import this."""

import re
from typing import NamedTuple
from urllib.parse import urlsplit

# S3's rules for a bucket name: 3 to 63 lowercase letters, digits, dots and hyphens, starting
# and ending with a letter or digit.
BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
PREFIX_PART = re.compile(r"^[A-Za-z0-9!_.*'()-]+$")


class S3Location(NamedTuple):
    """A bucket and the key prefix (no leading or trailing slash; may be empty) in it."""

    bucket: str
    prefix: str

    def key(self, digest: str) -> str:
        """The object key of a digest: <prefix>/<digest>, or the digest alone."""
        return f"{self.prefix}/{digest}" if self.prefix else digest

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"


def parse_s3_url(url: str) -> S3Location:
    """s3://bucket/prefix as a bucket and a prefix; ValueError saying what is wrong."""
    parts = urlsplit(url.strip())
    if parts.scheme != "s3":
        raise ValueError(f"must be s3://bucket/prefix, not {url!r}")
    if parts.query or parts.fragment or "@" in parts.netloc or ":" in parts.netloc:
        raise ValueError(f"must be s3://bucket/prefix with no credentials, port or query: {url!r}")
    if not BUCKET.match(parts.netloc) or ".." in parts.netloc:
        raise ValueError(
            f"{parts.netloc!r} is not a bucket name (3 to 63 lowercase letters, digits, dots "
            "and hyphens)"
        )
    pieces = [piece for piece in parts.path.split("/") if piece]
    for piece in pieces:
        if piece in {".", ".."} or not PREFIX_PART.match(piece):
            raise ValueError(
                f"the prefix of {url!r} may hold only letters, digits and !_.*'()- between slashes"
            )
    return S3Location(parts.netloc, "/".join(pieces))


def check_endpoint(url: str) -> str:
    """An S3 endpoint is http(s)://host[:port] (a path is allowed, for gateways)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError(f"must be an http:// or https:// URL, not {url!r}")
    try:
        parts.port  # noqa: B018 -- raises for a port that is not a number
    except ValueError:
        raise ValueError(f"has a port that is not a number: {url!r}") from None
    return url.strip()
