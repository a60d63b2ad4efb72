"""Retries as botocore would set them: ``AWS_MAX_ATTEMPTS`` alone gives botocore's own default mode.

:mod:`fashion_lib.registry.quilt` hands botocore the retry settings outright (it reads an empty
variable itself and fails on it), so the mode it picks for ``AWS_MAX_ATTEMPTS`` alone must be the one
botocore picks: asked of a plain botocore client here, not written down.
"""

from __future__ import annotations

import pytest
import seaweedfs  # tests/ is on sys.path

from fashion_lib import registry


@pytest.fixture
def aws_env(monkeypatch):
    """Keys and a region for s3://bucket, no retry variable, nothing read from the user's AWS files."""
    for key in (*seaweedfs.UNSET, "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE"):
        monkeypatch.delenv(key, raising=False)
    keys = {"AWS_ACCESS_KEY_ID": "K", "AWS_SECRET_ACCESS_KEY": "S", "AWS_DEFAULT_REGION": "us-east-1"}
    for key, value in {**seaweedfs.ISOLATION, **keys, "AWS_ENDPOINT_URL": "http://127.0.0.1:9"}.items():
        monkeypatch.setenv(key, value)
    return monkeypatch


def botocores_retries() -> dict:
    """The retry settings a plain botocore S3 client gets from the same environment."""
    import botocore.session

    return dict(botocore.session.get_session().create_client("s3").meta.config.retries)


@pytest.mark.parametrize("attempts", ["1", "2", "7"])
def test_aws_max_attempts_alone_gives_the_mode_and_attempts_botocore_gives(aws_env, attempts):
    aws_env.setenv("AWS_MAX_ATTEMPTS", attempts)
    expected = botocores_retries()
    assert expected["total_max_attempts"] == int(attempts)
    ours = registry.open("s3://bucket").client.meta.config.retries
    assert {key: ours[key] for key in ("mode", "total_max_attempts")} == {
        key: expected[key] for key in ("mode", "total_max_attempts")
    }
