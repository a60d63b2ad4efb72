"""AWS settings that parse but would misbehave: a retry count in the thousands (a dead server then means
days of retries), from the variable or the profile alike, and a config file whose [section] header is
never closed. Each is one line naming the variable or file, before any request."""

from __future__ import annotations

import pytest
import seaweedfs  # tests/ is on sys.path

from fashion_lib import registry
from fashion_lib.errors import ConfigError


@pytest.fixture
def aws_env(monkeypatch):
    """Keys and a region for s3://bucket, no retry variable, nothing read from the user's AWS files."""
    seaweedfs.isolate_aws(monkeypatch)
    return monkeypatch


def opening_fails(env) -> str:
    """The ConfigError line that building s3://bucket's client ends in (before any request)."""
    with pytest.raises(ConfigError) as caught:
        _ = registry.open("s3://bucket").client
    return str(caught.value)


def config_file(env, tmp_path, text: str) -> str:
    path = tmp_path / "aws-config"
    path.write_text(text)
    env.setenv("AWS_CONFIG_FILE", str(path))
    return str(path)


MOST_ATTEMPTS = 20  # fashion_lib.registry.s3_settings.MOST_ATTEMPTS, written down: the bound is part of the contract
TOO_MANY = f"expected at most {MOST_ATTEMPTS} attempts"


@pytest.mark.parametrize("value", ["99999", f"{MOST_ATTEMPTS + 1}"])
def test_aws_max_attempts_beyond_the_bound_is_named(aws_env, value):
    """Before: accepted, and a dead server was retried 99,999 times (60 s to answer each)."""
    aws_env.setenv("AWS_MAX_ATTEMPTS", value)
    assert opening_fails(aws_env) == f"AWS_MAX_ATTEMPTS is {value!r}; {TOO_MANY}, or unset it"


@pytest.mark.parametrize("value", ["99999", f"{MOST_ATTEMPTS + 1}"])
def test_max_attempts_beyond_the_bound_in_the_profile_names_file_profile_and_value(aws_env, tmp_path, value):
    """Before: accepted from ~/.aws/config as from the variable; now both paths give the same bound."""
    path = config_file(aws_env, tmp_path, f"[profile team]\nmax_attempts = {value}\n")
    aws_env.setenv("AWS_PROFILE", "team")
    assert opening_fails(aws_env) == (
        f"AWS_CONFIG_FILE {path!r}: max_attempts in [profile team] is {value!r}; {TOO_MANY}; fix it"
    )


def test_the_bound_itself_is_taken_from_the_variable_and_the_profile(aws_env, tmp_path):
    aws_env.setenv("AWS_MAX_ATTEMPTS", str(MOST_ATTEMPTS))
    assert registry.open("s3://bucket").client.meta.config.retries["total_max_attempts"] == MOST_ATTEMPTS
    aws_env.delenv("AWS_MAX_ATTEMPTS")
    config_file(aws_env, tmp_path, f"[default]\nmax_attempts = {MOST_ATTEMPTS}\n")
    assert registry.open("s3://bucket").client.meta.config.retries["total_max_attempts"] == MOST_ATTEMPTS


@pytest.mark.parametrize("value", ["99999", f"{MOST_ATTEMPTS + 1}"])
def test_metadata_service_attempts_beyond_the_bound_are_named(aws_env, tmp_path, value):
    """Before: accepted from the variable or the profile; without credentials elsewhere, botocore then asked
    an EC2 metadata service that is not there 99,999 times (1 s each). Same bound, same line, as max_attempts."""
    aws_env.setenv("AWS_METADATA_SERVICE_NUM_ATTEMPTS", value)
    assert opening_fails(aws_env) == f"AWS_METADATA_SERVICE_NUM_ATTEMPTS is {value!r}; {TOO_MANY}, or unset it"
    aws_env.delenv("AWS_METADATA_SERVICE_NUM_ATTEMPTS")
    path = config_file(aws_env, tmp_path, f"[profile team]\nmetadata_service_num_attempts = {value}\n")
    aws_env.setenv("AWS_PROFILE", "team")
    assert opening_fails(aws_env) == (
        f"AWS_CONFIG_FILE {path!r}: metadata_service_num_attempts in [profile team] is {value!r}; {TOO_MANY}; fix it"
    )


def test_the_profiles_metadata_attempts_are_checked_when_both_retry_variables_are_set(aws_env, tmp_path):
    """Before: with AWS_MAX_ATTEMPTS and AWS_RETRY_MODE both set, the profile was never read, so its
    metadata_service_num_attempts (which no variable overrode) went unchecked."""
    aws_env.setenv("AWS_MAX_ATTEMPTS", "3")
    aws_env.setenv("AWS_RETRY_MODE", "standard")
    path = config_file(aws_env, tmp_path, "[default]\nmetadata_service_num_attempts = 99999\n")
    assert opening_fails(aws_env) == (
        f"AWS_CONFIG_FILE {path!r}: metadata_service_num_attempts in [default] is '99999'; {TOO_MANY}; fix it"
    )


def test_metadata_service_attempts_up_to_the_bound_are_taken_and_the_variable_wins(aws_env, tmp_path):
    aws_env.setenv("AWS_METADATA_SERVICE_NUM_ATTEMPTS", str(MOST_ATTEMPTS))
    assert registry.open("s3://bucket").client
    config_file(aws_env, tmp_path, "[default]\nmetadata_service_num_attempts = 50\n")
    assert registry.open("s3://bucket").client  # botocore never reads the profile's: never refused
    aws_env.delenv("AWS_METADATA_SERVICE_NUM_ATTEMPTS")
    config_file(aws_env, tmp_path, f"[default]\nmetadata_service_num_attempts = {MOST_ATTEMPTS}\n")
    assert registry.open("s3://bucket").client


@pytest.mark.parametrize(
    "text, line",
    [("[default\nregion = us-east-1\n", 1), ("\n  [profile team  \nregion = us-east-1\n", 2)],
    ids=["first-line", "indented"],
)
def test_a_section_header_never_closed_is_named_as_such(aws_env, tmp_path, text, line):
    """Before: "line 1 comes before any [section] header", for a line that is one, missing its ']'."""
    path = config_file(aws_env, tmp_path, text)
    said = f"the [section] header on line {line} is not closed; expected ']' at its end"
    assert opening_fails(aws_env) == f"AWS_CONFIG_FILE is {path!r}: {said}; fix it, or unset AWS_CONFIG_FILE"


def test_a_section_header_never_closed_after_a_good_section_is_named_as_such(aws_env, tmp_path):
    """Before: "line 3 is neither a [section] nor KEY = VALUE"; only a first line's open header was named."""
    path = config_file(aws_env, tmp_path, "[default]\nregion = us-east-1\n[profile team\n")
    said = "the [section] header on line 3 is not closed; expected ']' at its end"
    assert opening_fails(aws_env) == f"AWS_CONFIG_FILE is {path!r}: {said}; fix it, or unset AWS_CONFIG_FILE"


@pytest.mark.parametrize("variable", ["AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"])
@pytest.mark.parametrize("header", ["[profile team = 3", "[profile team: x"])
def test_a_section_header_never_closed_that_looks_like_a_setting_is_a_header(aws_env, tmp_path, variable, header):
    """Before: no error at all; botocore read it as a setting "[profile team" of [default], and the profile
    it was meant to open was nowhere (or its settings landed in [default])."""
    path = tmp_path / "aws-file"
    path.write_text(f"[default]\nregion = us-east-1\n{header}\nregion = eu-west-1\n")
    aws_env.setenv(variable, str(path))
    said = "the [section] header on line 3 is not closed; expected ']' at its end"
    assert opening_fails(aws_env) == f"{variable} is {str(path)!r}: {said}; fix it, or unset {variable}"


def test_a_line_before_any_header_that_is_no_header_is_still_called_so(aws_env, tmp_path):
    path = config_file(aws_env, tmp_path, "region = us-east-1\n[default]\n")
    said = "line 1 comes before any [section] header"
    assert opening_fails(aws_env) == f"AWS_CONFIG_FILE is {path!r}: {said}; fix it, or unset AWS_CONFIG_FILE"


def test_a_profile_setting_its_variable_overrides_is_never_refused(aws_env, tmp_path):
    """AWS_MAX_ATTEMPTS=5 wins over the profile's max_attempts, as in a plain botocore client: a profile
    value beyond the bound was refused all the same, for a setting never used (review h80)."""
    config_file(aws_env, tmp_path, "[profile team]\nmax_attempts = 50\n")
    aws_env.setenv("AWS_PROFILE", "team")
    aws_env.setenv("AWS_MAX_ATTEMPTS", "5")
    assert registry.open("s3://bucket").client.meta.config.retries["total_max_attempts"] == 5


@pytest.mark.parametrize("python", ["3.11", "3.13"])
@pytest.mark.parametrize(
    "line, said",
    [
        ("[profile team\n", "the [section] header on line 3 is not closed; expected ']' at its end"),
        ("bad line\n", "line 3 is neither a [section] nor KEY = VALUE"),
        ("[1, 2\n", "the [section] header on line 3 is not closed; expected ']' at its end"),
        ("'quoted'\n", "line 3 is neither a [section] nor KEY = VALUE"),
    ],
)
def test_a_bad_line_is_named_whichever_form_python_keeps_it_in(python, line, said):
    """Review 87: Python 3.13's configparser keeps the bad line itself, 3.11 and 3.12 its repr, which was read
    back with ast.literal_eval: on 3.13 every such line raised SyntaxError or ValueError (exit 70)."""
    import configparser

    from fashion_lib.registry.s3_settings import _unparsable

    error = configparser.ParsingError(source="aws-config")
    error.errors = [(3, repr(line) if python == "3.11" else line)]
    assert _unparsable(error) == said
