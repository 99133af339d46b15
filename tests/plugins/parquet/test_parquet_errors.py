"""Storage errors become retryable or permanent delivery errors that name the bucket and the problem."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from botocore.exceptions import ClientError

from flagpipe import DestinationDisabledError, RetryableError
from flagpipe.plugins.parquet.errors import classify, kind_of

from .conftest import KEY, SECRET, free_port
from .helpers import open_callback, text_event

if TYPE_CHECKING:
    from pathlib import Path

    from .conftest import S3, AuthS3


def _s3_error(code: str, status: int) -> ClientError:
    response = {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return ClientError(response, "PutObject")  # type: ignore[arg-type]


def _wrapped(code: str, status: int, as_type: type[OSError]) -> OSError:
    """As s3fs raises it: a Python error whose cause is botocore's."""
    try:
        raise as_type(code) from _s3_error(code, status)
    except OSError as exc:
        return exc


@pytest.mark.parametrize(
    ("code", "status", "as_type", "kind"),
    [
        ("SlowDown", 503, OSError, "retry"),
        ("ServiceUnavailable", 503, OSError, "retry"),
        ("RequestTimeout", 400, TimeoutError, "retry"),
        ("InternalError", 500, OSError, "retry"),
        ("AccessDenied", 403, PermissionError, "disable"),
        ("NoSuchBucket", 404, FileNotFoundError, "disable"),
        ("InvalidAccessKeyId", 403, PermissionError, "disable"),
        ("SignatureDoesNotMatch", 403, PermissionError, "disable"),
    ],
)
def test_store_error_codes(code: str, status: int, as_type: type[OSError], kind: str) -> None:
    assert kind_of(_wrapped(code, status, as_type))[0] == kind


def test_plain_errors() -> None:
    assert kind_of(ConnectionRefusedError("refused"))[0] == "retry"
    assert kind_of(TimeoutError())[0] == "retry"
    assert kind_of(PermissionError("denied"))[0] == "disable"


def test_secrets_are_scrubbed_from_messages() -> None:
    error = classify(PermissionError("key s3cr3t rejected"), where="bucket 'b'", doing="writing", secrets=["s3cr3t"])
    assert isinstance(error, DestinationDisabledError)
    assert "s3cr3t" not in str(error) and "bucket 'b'" in str(error)


def test_a_missing_bucket_is_permanent_and_named(s3: S3, tmp_path: Path) -> None:
    callback = open_callback(tmp_path, url="s3://no-such-bucket-here/flags/", storage_options=s3.options())
    with pytest.raises(DestinationDisabledError, match="no-such-bucket-here") as caught:
        callback.deliver([text_event(0)])
    assert "does not exist" in str(caught.value)
    with pytest.raises(DestinationDisabledError, match="no-such-bucket-here"):
        callback.healthcheck()


def test_access_denied_is_permanent_and_named(s3_auth: AuthS3, tmp_path: Path) -> None:
    options = s3_auth.server.options(key=s3_auth.user_key, secret=s3_auth.user_secret)
    callback = open_callback(tmp_path, url=f"s3://{s3_auth.bucket}/flags/", storage_options=options)
    with pytest.raises(DestinationDisabledError, match=s3_auth.bucket) as caught:
        callback.deliver([text_event(0)])
    assert "access denied" in str(caught.value)
    assert s3_auth.user_secret not in str(caught.value)


def test_bad_credentials_are_permanent(s3_auth: AuthS3, tmp_path: Path) -> None:
    options = s3_auth.server.options(key="AKIAUNKNOWN0000000000", secret=SECRET)
    callback = open_callback(tmp_path, url=f"s3://{s3_auth.bucket}/flags/", storage_options=options)
    with pytest.raises(DestinationDisabledError, match="bad credentials") as caught:
        callback.deliver([text_event(0)])
    assert s3_auth.bucket in str(caught.value) and KEY not in str(caught.value)


def test_an_unreachable_endpoint_is_retryable(s3: S3, tmp_path: Path) -> None:
    options = s3.options()
    options["client_kwargs"] = {"endpoint_url": f"http://127.0.0.1:{free_port()}", "region_name": "us-east-1"}
    callback = open_callback(tmp_path, url="s3://any-bucket/flags/", storage_options=options)
    with pytest.raises(RetryableError, match="any-bucket"):
        callback.deliver([text_event(0)])
