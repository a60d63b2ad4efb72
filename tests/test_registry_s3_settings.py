"""Bad AWS settings for an S3 registry: each is one line naming the variable (or file) and what it should
hold, exit 2, before any request; empty retry settings mean unset. A real SeaweedFS server shows the
settings that are right still reach it.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import seaweedfs  # tests/ is on sys.path
from cli_support import cli, closed_s3_env, one_line

from fashion_lib import registry
from fashion_lib.errors import ConfigError


@pytest.fixture
def aws_env(monkeypatch):
    """Keys and a region for s3://bucket, nothing read from the user's AWS files; returns monkeypatch."""
    seaweedfs.isolate_aws(monkeypatch, unset=("AWS_METADATA_SERVICE_TIMEOUT",))
    return monkeypatch


# --- variables botocore reads as numbers, names or modes ---------------------------------

WHOLE = "expected a whole number of {}, {} or more, or unset it"
REGION = "expected the bucket's region, letters, digits and hyphens such as us-east-1, or unset it"


@pytest.mark.parametrize(
    "variable, value, expected",
    [
        ("AWS_MAX_ATTEMPTS", "abc", WHOLE.format("attempts", 1)),
        ("AWS_MAX_ATTEMPTS", "2.5", WHOLE.format("attempts", 1)),
        ("AWS_MAX_ATTEMPTS", "0", WHOLE.format("attempts", 1)),
        ("AWS_METADATA_SERVICE_TIMEOUT", "x", WHOLE.format("seconds", 0)),
        ("AWS_METADATA_SERVICE_TIMEOUT", "", WHOLE.format("seconds", 0)),
        ("AWS_METADATA_SERVICE_NUM_ATTEMPTS", "y", WHOLE.format("attempts", 1)),
        ("AWS_RETRY_MODE", "bogus", "expected one of standard, adaptive, legacy, or unset it"),
        ("AWS_RETRY_MODE", "Standard", "expected one of standard, adaptive, legacy, or unset it"),
        ("AWS_DEFAULT_REGION", "../x", REGION),
        ("AWS_DEFAULT_REGION", "us east", REGION),
        ("AWS_DEFAULT_REGION", "", REGION),
    ],
)
def test_a_bad_aws_variable_is_named_when_the_registry_is_opened(aws_env, variable, value, expected):
    """Before: exit 70 ("ValueError: invalid literal for int()", or for an empty region a RuntimeError
    from the request signer), or boto3's own words without the variable ("Invalid value provided to
    "mode"", "Provided region_name '../x' doesn't match a supported format")."""
    aws_env.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        registry.open("s3://bucket")
    assert str(caught.value) == f"{variable} is {value!r}; {expected}"


def test_aws_max_attempts_that_is_no_number_is_exit_2_through_the_cli(tmp_path):
    """The tester's case: before, `fashion: internal error: ValueError: invalid literal for int()`, exit 70."""
    env = {**closed_s3_env(tmp_path), **seaweedfs.ISOLATION, "AWS_MAX_ATTEMPTS": "abc"}
    done = cli("packages", "list", "--registry", "s3://team", **env)
    assert done.returncode == 2, done.stderr
    assert one_line(done) == (
        "fashion: error: AWS_MAX_ATTEMPTS is 'abc'; expected a whole number of attempts, 1 or more, or unset it"
    )


@pytest.mark.parametrize(
    "attempts, mode, expected",
    [
        ("", "", {"total_max_attempts": 4, "mode": "standard"}),
        ("2", "", {"total_max_attempts": 2, "mode": "standard"}),
        ("", "adaptive", {"total_max_attempts": 3, "mode": "adaptive"}),  # botocore's default for a mode set alone
        (" 3 ", " legacy ", {"total_max_attempts": 3, "mode": "legacy"}),
    ],
)
def test_empty_retry_settings_mean_unset(aws_env, attempts, mode, expected):
    """Before: an empty AWS_RETRY_MODE beside AWS_MAX_ATTEMPTS was botocore's InvalidRetryModeError, an empty
    AWS_MAX_ATTEMPTS beside AWS_RETRY_MODE a ValueError (exit 70)."""
    aws_env.setenv("AWS_MAX_ATTEMPTS", attempts)
    aws_env.setenv("AWS_RETRY_MODE", mode)
    client = registry.open("s3://bucket").client
    assert {key: client.meta.config.retries[key] for key in expected} == expected


# --- against a real server ---------------------------------------------------------------


def fashion(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, "-m", "fashion_lib", *args],
        capture_output=True, text=True, timeout=120, env=seaweedfs.subprocess_env(env),
    )  # fmt: skip
    assert "Traceback" not in done.stderr, done.stderr
    return done


@pytest.mark.slow  # a real SeaweedFS server
def test_against_seaweedfs_bad_settings_are_named_and_good_ones_work(seaweed, tmp_path):
    bucket = seaweedfs.new_bucket(seaweed, versioned=False)
    env = {**seaweedfs.client_env(seaweed, "reader"), "FASHION_HOME": str(tmp_path)}
    listing = ("packages", "list", "--registry", bucket)
    for variable, value in [("AWS_MAX_ATTEMPTS", "abc"), ("AWS_RETRY_MODE", "bogus"), ("AWS_DEFAULT_REGION", "")]:
        done = fashion({**env, variable: value}, *listing)
        assert done.returncode == 2 and one_line(done).startswith(f"fashion: error: {variable} is {value!r}; ")
    for settings in ({"AWS_MAX_ATTEMPTS": "", "AWS_RETRY_MODE": "standard"}, {"AWS_MAX_ATTEMPTS": "2"}):
        done = fashion({**env, **settings}, *listing)
        assert done.returncode == 0 and "0 version(s)" in done.stdout, (settings, done.stderr)


def test_settings_checked_leave_a_local_registry_alone(aws_env, tmp_path):
    aws_env.setenv("AWS_MAX_ATTEMPTS", "abc")
    assert registry.open(str(tmp_path)).describe()
    assert os.environ["AWS_MAX_ATTEMPTS"] == "abc"


# --- the profile and the files botocore reads ---------------------------------------------

NO_PROFILE = "no such profile in AWS_CONFIG_FILE {!r}{} or AWS_SHARED_CREDENTIALS_FILE {!r}; expected one named there"


def settings_failure() -> str:
    """The ConfigError line that reading s3://bucket ends in (before any request)."""
    with pytest.raises(ConfigError) as caught:
        registry.list_versions(registry="s3://bucket")
    return str(caught.value)


def test_a_profile_that_is_nowhere_is_named_with_the_files_looked_in(aws_env, tmp_path):
    """Before: "listing packages: s3://bucket (endpoint ...): The config profile (dev) could not be found"."""
    config = tmp_path / "config"
    config.write_text("[profile other]\nregion = us-east-1\n")
    aws_env.setenv("AWS_CONFIG_FILE", str(config))
    aws_env.setenv("AWS_PROFILE", "dev")
    expected = NO_PROFILE.format(str(config), "", os.devnull)
    assert settings_failure() == f"AWS_PROFILE is 'dev': {expected}, or unset it"
    aws_env.setenv("AWS_CONFIG_FILE", str(tmp_path / "missing"))
    expected = NO_PROFILE.format(str(tmp_path / "missing"), " (no such file)", os.devnull)
    assert settings_failure() == f"AWS_PROFILE is 'dev': {expected}, or unset it"
    aws_env.setenv("AWS_PROFILE", "")
    assert settings_failure().startswith("AWS_PROFILE is ''; expected the name of a profile in AWS_CONFIG")


GARBLED = [
    ("secret-key-on-line-1\n", "line 1 comes before any [section] header"),
    ("[default]\nregion = us-east-1\naws_secret_access_key\n", "line 3 is neither a [section] nor KEY = VALUE"),
    (  # before: "line 3 is neither a [section] nor KEY = VALUE", though only the first such header was named so
        "[default]\nregion = us-east-1\n[profile x\naws_secret_access_key\n",
        "the [section] header on line 3 is not closed; expected ']' at its end",
    ),
    ("[default]\nregion = us-east-1\n[default]\n", "line 3 repeats the section [default]"),
    ("[default]\nregion = a\nregion = b\n", "line 3 repeats region in [default]"),
    (b"[default]\n\xff\xfe\n", "it is not text"),
]


@pytest.mark.parametrize("variable", ["AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"])
@pytest.mark.parametrize(
    "text, why", GARBLED, ids=["no-header", "bad-line", "open-header", "same-section", "same-key", "binary"]
)
def test_a_garbled_settings_file_is_named_by_its_variable_and_line(aws_env, tmp_path, variable, text, why):
    """Before: "...: Unable to parse config file: /path", naming neither the variable nor what is wrong;
    the line itself is never shown (it may hold a key)."""
    path = tmp_path / "aws-file"
    (path.write_bytes if isinstance(text, bytes) else path.write_text)(text)
    aws_env.setenv(variable, str(path))
    assert settings_failure() == f"{variable} is {str(path)!r}: {why}; fix it, or unset {variable}"


def test_a_bad_value_in_the_config_file_names_the_file(aws_env, tmp_path):
    """Before: a region from the file was boto3's line without the file; a number that is none, exit 70."""
    config = tmp_path / "config"
    config.write_text("[profile dev]\nregion = ../bad\n[default]\nmetadata_service_timeout = x\n")
    aws_env.setenv("AWS_CONFIG_FILE", str(config))
    aws_env.delenv("AWS_DEFAULT_REGION")
    aws_env.setenv("AWS_PROFILE", "dev")
    assert settings_failure() == (
        f"the region '../bad' in AWS_CONFIG_FILE {str(config)!r} is no region name; "
        "expected letters, digits and hyphens such as us-east-1"
    )
    aws_env.delenv("AWS_PROFILE")
    aws_env.setenv("AWS_DEFAULT_REGION", "us-east-1")
    assert settings_failure() == (
        f"AWS_CONFIG_FILE {str(config)!r}: a setting botocore reads as a whole number is none "
        "(invalid literal for int() with base 10: 'x'); fix it"
    )


def test_an_endpoint_url_in_the_config_file_that_is_no_url_is_named_as_such(aws_env, tmp_path):
    """Before: every ValueError from the config file was called 'a whole number that is none'."""
    config = tmp_path / "config"
    config.write_text("[default]\nendpoint_url = bad\n")
    aws_env.setenv("AWS_CONFIG_FILE", str(config))
    aws_env.delenv("AWS_ENDPOINT_URL", raising=False)
    aws_env.delenv("AWS_ENDPOINT_URL_S3", raising=False)
    said = settings_failure()
    assert said.startswith(f"AWS_CONFIG_FILE {str(config)!r}: its endpoint_url is no URL (")
    assert said.endswith("); expected http(s)://HOST[:PORT]; fix it") and "whole number" not in said


@pytest.mark.slow  # a real SeaweedFS server
def test_against_seaweedfs_a_profile_and_the_credentials_file_are_named(seaweed, tmp_path):
    bucket = seaweedfs.new_bucket(seaweed, versioned=False)
    reader = seaweedfs.client_env(seaweed, "reader")
    credentials = tmp_path / "credentials"
    credentials.write_text(
        f"[dev]\naws_access_key_id = {reader['AWS_ACCESS_KEY_ID']}\n"
        f"aws_secret_access_key = {reader['AWS_SECRET_ACCESS_KEY']}\n"
    )
    keyless = {k: v for k, v in reader.items() if not k.startswith(("AWS_ACCESS", "AWS_SECRET"))}
    env = {**keyless, "FASHION_HOME": str(tmp_path), "AWS_SHARED_CREDENTIALS_FILE": str(credentials)}
    listing = ("packages", "list", "--registry", bucket)

    done = fashion({**env, "AWS_PROFILE": "dev"}, *listing)  # the profile's keys reach the server
    assert done.returncode == 0 and "0 version(s)" in done.stdout, done.stderr
    done = fashion({**env, "AWS_PROFILE": "nosuch"}, *listing)
    assert done.returncode == 2 and one_line(done).startswith("fashion: error: AWS_PROFILE is 'nosuch': no such")
    gone = str(tmp_path / "gone")
    done = fashion({**env, "AWS_SHARED_CREDENTIALS_FILE": gone}, *listing)  # no keys: unsigned, refused
    assert done.returncode == 6, done.stderr
    assert one_line(done).endswith(f"; AWS_SHARED_CREDENTIALS_FILE {gone!r}: no such file")
