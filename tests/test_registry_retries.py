"""Retries as botocore would set them: each setting from the variable, else the profile (``AWS_CONFIG_FILE``,
``AWS_PROFILE``); one set alone gives botocore's own default for the other; ours only where none is set.

:mod:`fashion_lib.registry.quilt` hands botocore the retry settings outright (it reads an empty
variable itself and fails on it), so what it picks must be what botocore picks: asked of (and counted
on) a plain botocore client here, not written down.
"""

from __future__ import annotations

import pytest
import seaweedfs  # tests/ is on sys.path

from fashion_lib import registry


@pytest.fixture
def aws_env(monkeypatch):
    """Keys and a region for s3://bucket, no retry variable, nothing read from the user's AWS files."""
    seaweedfs.isolate_aws(monkeypatch)
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


# --- the profile's retry_mode and max_attempts (AWS_CONFIG_FILE, AWS_PROFILE), counted ----------------

XML_500 = b"<?xml version='1.0'?><Error><Code>InternalError</Code><Message>try again</Message></Error>"


class _Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_):
        yield self.data


def attempts_made(client, monkeypatch) -> tuple[str, int]:
    """(mode, attempts) of ``client`` against a server that answers every request with S3's 500: counted as
    it sends, no request leaving this process, no wait between attempts."""
    import time

    from botocore.awsrequest import AWSResponse

    sent = []

    def answer(request, **_):
        sent.append(request.url)
        return AWSResponse(request.url, 500, {"x-amz-request-id": "test"}, _Body(XML_500))

    monkeypatch.setattr(time, "sleep", lambda _: None)
    client.meta.events.register("before-send.s3", answer, unique_id="test-counts-attempts")
    try:
        with pytest.raises(Exception, match="InternalError"):
            client.head_bucket(Bucket="bucket")
    finally:
        client.meta.events.unregister("before-send.s3", unique_id="test-counts-attempts")
    return client.meta.config.retries["mode"], len(sent)


def botocores_attempts(monkeypatch) -> tuple[str, int]:
    import botocore.session

    return attempts_made(botocore.session.get_session().create_client("s3"), monkeypatch)


def ours(monkeypatch) -> tuple[str, int]:
    return attempts_made(registry.open("s3://bucket").client, monkeypatch)


def config_file(env, tmp_path, text: str) -> None:
    path = tmp_path / "aws-config"
    path.write_text(text)
    env.setenv("AWS_CONFIG_FILE", str(path))


PROFILE_SETTINGS = {
    "legacy alone": ("retry_mode = legacy\n", ("legacy", 5)),
    "attempts alone": ("max_attempts = 2\n", ("standard", 2)),
    "both": ("retry_mode = legacy\nmax_attempts = 2\n", ("legacy", 2)),
    "adaptive alone": ("retry_mode = adaptive\n", ("adaptive", 3)),
}


@pytest.mark.parametrize("settings", PROFILE_SETTINGS)
@pytest.mark.parametrize("profile", ["default", "team"])
def test_the_profiles_retry_settings_are_taken_as_botocore_takes_them(aws_env, tmp_path, profile, settings):
    """Before: our 4 attempts in standard mode, whatever the profile said."""
    lines, expected = PROFILE_SETTINGS[settings]
    if profile == "default":
        config_file(aws_env, tmp_path, "[default]\n" + lines)
    else:  # the default profile says otherwise: the one AWS_PROFILE picks is read
        config_file(aws_env, tmp_path, "[default]\nretry_mode = adaptive\nmax_attempts = 7\n[profile team]\n" + lines)
        aws_env.setenv("AWS_PROFILE", profile)
    assert botocores_attempts(aws_env) == expected
    assert ours(aws_env) == expected


def test_the_variables_come_before_the_profile_one_setting_at_a_time(aws_env, tmp_path):
    config_file(aws_env, tmp_path, "[default]\nretry_mode = legacy\nmax_attempts = 2\n")
    aws_env.setenv("AWS_MAX_ATTEMPTS", "3")
    assert ours(aws_env) == botocores_attempts(aws_env) == ("legacy", 3)
    aws_env.setenv("AWS_RETRY_MODE", "standard")
    assert ours(aws_env) == botocores_attempts(aws_env) == ("standard", 3)


@pytest.mark.parametrize("mode", ["legacy", "standard", "adaptive"])
def test_aws_retry_mode_alone_gives_the_attempts_botocore_gives_in_that_mode(aws_env, mode):
    """Before: AWS_RETRY_MODE=legacy alone made 4 attempts, botocore 5 (and standard alone 4, not 3)."""
    aws_env.setenv("AWS_RETRY_MODE", mode)
    assert ours(aws_env) == botocores_attempts(aws_env)


def test_where_nothing_is_set_ours_are_four_attempts_in_standard_mode(aws_env, tmp_path):
    config_file(aws_env, tmp_path, "[default]\nregion = us-east-1\n")
    aws_env.setenv("AWS_MAX_ATTEMPTS", " ")  # empty: unset
    assert ours(aws_env) == ("standard", 4)


@pytest.mark.parametrize(
    ("lines", "said"),
    [
        (
            "max_attempts = two\n",
            "max_attempts in [profile team] is 'two'; expected a whole number of attempts, 1 or more",
        ),
        ("max_attempts = 0\n", "max_attempts in [profile team] is '0'; expected a whole number of attempts, 1 or more"),
        ("retry_mode = fast\n", "retry_mode in [profile team] is 'fast'; expected one of standard, adaptive, legacy"),
    ],
)
def test_a_bad_retry_setting_in_the_profile_is_one_line_naming_the_file(aws_env, tmp_path, lines, said):
    from cli_support import cli, closed_s3_env, one_line

    from fashion_lib.errors import ConfigError

    config_file(aws_env, tmp_path, "[profile team]\n" + lines)
    env = {**closed_s3_env(tmp_path / "home"), "AWS_MAX_ATTEMPTS": "", "AWS_PROFILE": "team"}
    done = cli("packages", "list", "--registry", "s3://bucket", **env)
    assert done.returncode == ConfigError.exit_code, done.stderr
    assert one_line(done) == f"fashion: error: AWS_CONFIG_FILE {str(tmp_path / 'aws-config')!r}: {said}; fix it"
