"""Is a push in flight? What ``packages verify`` and ``gc`` ask before they call a manifest or object lost.

On S3 the answer is the object's age (:meth:`S3Registry.written_at`); the S3 tests with a real server
(test_registry_verify_in_flight, test_registry_verify_first_push) cover it end to end.
"""

from __future__ import annotations

import datetime as dt

import botocore.exceptions as bx
import pytest

from fashion_lib.registry import gc
from fashion_lib.registry.s3 import S3Registry

WRITTEN = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)


class HeadOnly:
    """An S3 client that answers HeadObject only: ``WRITTEN`` for the keys it holds, else S3's 404."""

    def __init__(self, keys: set[str]) -> None:
        self.keys, self.asked = keys, []

    def head_object(self, *, Bucket: str, Key: str) -> dict:  # noqa: N803 - boto3's names
        self.asked.append((Bucket, Key))
        if Key not in self.keys:
            raise bx.ClientError({"Error": {"Code": "404", "Message": "Not Found"}}, "HeadObject")
        return {"LastModified": WRITTEN}


@pytest.fixture
def bucket(monkeypatch) -> tuple[S3Registry, HeadOnly]:
    client = HeadOnly({".quilt/packages/" + "a" * 64})
    monkeypatch.setattr(S3Registry, "client", property(lambda self: client))
    return S3Registry("s3://bucket"), client


def test_an_s3_registry_says_when_an_object_was_written_and_0_for_one_gone(bucket):
    """Before: gc read ``reg.client`` and ``reg.bucket`` itself; S3Registry had no ``written_at``."""
    reg, client = bucket
    assert reg.written_at(".quilt/packages/" + "a" * 64) == WRITTEN.timestamp()
    assert reg.written_at(".quilt/packages/" + "b" * 64) == 0.0
    assert client.asked == [("bucket", ".quilt/packages/" + "a" * 64), ("bucket", ".quilt/packages/" + "b" * 64)]


def test_gc_in_flight_on_s3_asks_the_registry_for_each_manifests_date(bucket, monkeypatch):
    reg, _ = bucket
    monkeypatch.setattr(gc, "grace_cutoff", lambda: WRITTEN.timestamp() - 1)
    assert gc.in_flight(reg, ["a" * 64, "b" * 64]) == ["a" * 64]  # "b": gone since it was listed
    monkeypatch.setattr(gc, "grace_cutoff", lambda: WRITTEN.timestamp())
    assert gc.in_flight(reg, ["a" * 64]) == []  # older than the grace


def test_another_s3_error_is_raised_not_taken_for_gone(bucket, monkeypatch):
    reg, client = bucket

    def denied(**_: str) -> dict:
        raise bx.ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "HeadObject")

    monkeypatch.setattr(client, "head_object", denied)
    with pytest.raises(bx.ClientError):
        reg.written_at(".quilt/packages/" + "a" * 64)
