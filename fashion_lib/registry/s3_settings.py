"""The AWS settings an S3 registry is built from (variables, config and credentials files): checked
before any client exists, and botocore's complaints about them as one line naming the variable or file."""

from __future__ import annotations

import ast
import configparser
import contextlib
import os
import re
from collections.abc import Iterator
from typing import Any

from ..errors import ConfigError

RETRY_MODES = ("standard", "adaptive", "legacy")
# The most attempts ``AWS_MAX_ATTEMPTS`` or a profile's ``max_attempts`` may ask for: botocore sets no bound, and
# each attempt at a dead server may wait a minute for an answer (and up to 20 s before the next), so 99999 meant days.
# ``AWS_METADATA_SERVICE_NUM_ATTEMPTS`` alike: off EC2, each asks a metadata service that is not there (1 s each).
MOST_ATTEMPTS = 20

# Variables botocore reads as whole numbers, with what they count, their least value and their most (None: any):
# anything else, even empty, is a bare ValueError from deep inside it ("invalid literal for int()", exit 70).
_WHOLE_NUMBERS = {
    "AWS_MAX_ATTEMPTS": ("attempts", 1, MOST_ATTEMPTS),
    "AWS_METADATA_SERVICE_NUM_ATTEMPTS": ("attempts", 1, MOST_ATTEMPTS),
    "AWS_METADATA_SERVICE_TIMEOUT": ("seconds", 0, None),
}
# The profile settings botocore reads where those variables are unset, with their variable: checked alike.
_IN_PROFILE = {"max_attempts": "AWS_MAX_ATTEMPTS", "metadata_service_num_attempts": "AWS_METADATA_SERVICE_NUM_ATTEMPTS"}


def check_settings() -> None:
    """A ConfigError naming the AWS variable, or the line of an AWS file, boto3 would stumble on, before any
    client is built.

    An empty ``AWS_MAX_ATTEMPTS`` or ``AWS_RETRY_MODE`` means unset (:mod:`.quilt` hands botocore both);
    botocore reads the other variables itself, empty or not."""
    for name in _WHOLE_NUMBERS:
        value = os.environ.get(name)
        if value is None or (name == "AWS_MAX_ATTEMPTS" and not value.strip()):
            continue
        expected = _expected_number(name, value)
        if expected:
            raise ConfigError(f"{name} is {value!r}; expected {expected}, or unset it")
    mode = os.environ.get("AWS_RETRY_MODE", "").strip()
    if mode and mode not in RETRY_MODES:
        raise ConfigError(f"AWS_RETRY_MODE is {mode!r}; expected one of {', '.join(RETRY_MODES)}, or unset it")
    region = os.environ.get("AWS_DEFAULT_REGION")
    if region is not None and not _region_name(region):
        raise ConfigError(
            f"AWS_DEFAULT_REGION is {region!r}; expected the bucket's region, "
            "letters, digits and hyphens such as us-east-1, or unset it"
        )
    _check_files()


def profile_retries(session: Any, keys: tuple[str, ...] = ("max_attempts", "retry_mode")) -> dict[str, str]:
    """Those of ``keys`` (``max_attempts``, ``retry_mode``) that the AWS profile sets: botocore's own
    lookup for ``session`` (boto3's or botocore's; the profile ``AWS_PROFILE`` picks, in the file
    ``AWS_CONFIG_FILE`` names), each checked as :func:`check_settings` checks the variables, attempts to
    :data:`MOST_ATTEMPTS` alike (a ConfigError naming the file, the profile and the setting); so is the
    profile's ``metadata_service_num_attempts`` where its variable is unset. A setting its variable overrides
    is left out of ``keys``: botocore never reads it, so it is never refused."""
    core = getattr(session, "_session", session)  # a boto3 session wraps botocore's
    scoped = core.get_scoped_config()
    metadata = () if "AWS_METADATA_SERVICE_NUM_ATTEMPTS" in os.environ else ("metadata_service_num_attempts",)
    found = {key: str(scoped[key]).strip() for key in (*keys, *metadata) if key in scoped}
    for key, value in found.items():
        if key in _IN_PROFILE:
            expected = _expected_number(_IN_PROFILE[key], value)
        else:  # retry_mode
            expected = None if value in RETRY_MODES else f"one of {', '.join(RETRY_MODES)}"
        if expected:
            raise _bad_in_profile(core.profile, key, value, expected)
    return {key: value for key, value in found.items() if key in keys}


def _expected_number(name: str, value: str) -> str | None:
    """What the variable ``name`` (or its profile setting) should be, where ``value`` is not that."""
    unit, least, most = _WHOLE_NUMBERS[name]
    if not _at_least(value, least):
        return f"a whole number of {unit}, {least} or more"
    if most is not None and int(value) > most:
        return f"at most {most} {unit}"
    return None


def _at_least(value: str, least: int) -> bool:
    """Whether botocore reads ``value`` as a whole number (``int``), and it is ``least`` or more."""
    try:
        return int(value) >= least
    except ValueError:
        return False


def _bad_in_profile(profile: str | None, key: str, value: str, expected: str) -> ConfigError:
    where = f"[profile {profile}]" if profile and profile != "default" else "[default]"
    return ConfigError(f"{_file_name(0)}: {key} in {where} is {value!r}; expected {expected}; fix it")


def _region_name(region: str) -> bool:
    """Whether botocore takes ``region`` (an empty one it takes, and then fails to sign with: exit 70)."""
    import botocore.exceptions as bx
    from botocore.utils import validate_region_name

    try:
        validate_region_name(region)
    except bx.InvalidRegionError:
        return False
    return bool(region)


# The files botocore reads its settings from: the variable that moves each, and where it is otherwise.
_FILES = (("AWS_CONFIG_FILE", "~/.aws/config"), ("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials"))


@contextlib.contextmanager
def setting_errors() -> Iterator[None]:
    """What botocore raises inside the block (building a client) about its settings, as a ConfigError
    naming the variable or file: a profile that is nowhere, a file it cannot parse, a number that is none."""
    import botocore.exceptions as bx

    try:
        yield
    except bx.BotoCoreError as exc:
        error = setting_error(exc)
        if error is None:
            raise
        raise error from None
    except ValueError as exc:  # a config-file value botocore cannot use (the variables are checked at open)
        raise ConfigError(f"{_file_name(0)}: {_unusable_value(exc)}; fix it") from None


def _unusable_value(exc: ValueError) -> str:
    """What a ValueError botocore raised while reading the config file says is wrong, in words."""
    said = " ".join(str(exc).split())
    if said.startswith("invalid literal for int()"):
        return f"a setting botocore reads as a whole number is none ({said})"
    if said.startswith("Invalid endpoint"):
        return f"its endpoint_url is no URL ({said}); expected http(s)://HOST[:PORT]"
    return f"botocore cannot use a setting in it ({said})"


def setting_error(exc: BaseException) -> ConfigError | None:
    """The ConfigError naming the AWS variable or file behind ``exc``, if botocore raised it reading its settings."""
    import botocore.exceptions as bx

    kwargs = getattr(exc, "kwargs", {})
    if isinstance(exc, bx.ProfileNotFound):
        return _no_such_profile(str(kwargs.get("profile", "")))
    if isinstance(exc, bx.ConfigParseError):
        return _unparsable_file(str(kwargs.get("path", "")), kwargs.get("error"))
    if isinstance(exc, bx.InvalidRegionError):  # AWS_DEFAULT_REGION is checked at open: this is the file's
        return ConfigError(
            f"the region {kwargs.get('region_name')!r} in {_file_name(0)} is no region name; "
            "expected letters, digits and hyphens such as us-east-1"
        )
    return None


def _unparsable_file(path: str, error: object) -> ConfigError:
    """The ConfigError for the AWS settings file at ``path`` that ``error`` (configparser's) refused."""
    why = _unparsable(error)
    for index, (variable, _) in enumerate(_FILES):
        if _file_path(index) == path:
            if os.environ.get(variable):
                return ConfigError(f"{variable} is {os.environ[variable]!r}: {why}; fix it, or unset {variable}")
            return ConfigError(f"the AWS settings file {_file_name(index)}: {why}; fix it, or set {variable}")
    return ConfigError(f"the AWS settings file {path}: {why}; fix it")


class _HeadersFirst(configparser.RawConfigParser):
    """botocore's parser for the AWS files, except that a line starting with '[' is never KEY = VALUE."""

    OPTCRE = re.compile(
        r"(?!\[)" + configparser.RawConfigParser.OPTCRE.pattern, configparser.RawConfigParser.OPTCRE.flags
    )


def _check_files() -> None:
    """The AWS files botocore reads for any client (both), parsed as it parses them, save that ``[profile team = 3``
    is a [section] header left open: botocore reads it as a setting "[profile team" of the section above."""
    for index in range(len(_FILES)):
        path = _file_path(index)
        if os.path.isfile(path):  # botocore reads no other
            try:
                _HeadersFirst(strict=False).read([path])  # a repeat is botocore's to name, and may follow from it
            except (configparser.Error, UnicodeDecodeError) as exc:
                raise _unparsable_file(path, exc) from None


def _no_such_profile(profile: str) -> ConfigError:
    files = " or ".join(_file_name(i) + (f" ({problem})" if problem else "") for i, problem in _file_problems())
    variable = next((v for v in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE") if os.environ.get(v) == profile), None)
    if variable and not profile.strip():
        return ConfigError(f"{variable} is {profile!r}; expected the name of a profile in {files}, or unset it")
    if variable is None:  # a source_profile in a profile that is there
        return ConfigError(f"the AWS profile {profile!r} is in neither {files}; add it, or fix the profile naming it")
    return ConfigError(f"{variable} is {profile!r}: no such profile in {files}; expected one named there, or unset it")


def _file_path(index: int) -> str:
    variable, default = _FILES[index]
    return os.path.expanduser(os.path.expandvars(os.environ.get(variable) or default))


def _file_name(index: int) -> str:
    """``AWS_CONFIG_FILE '/path'`` where the variable moves the file, else its usual place."""
    variable, default = _FILES[index]
    return f"{variable} {os.environ[variable]!r}" if os.environ.get(variable) else default


def _file_problems() -> list[tuple[int, str]]:
    """(index, why botocore reads nothing from it, or '') for each file; only a file a variable names is
    judged (botocore reads a missing or unreadable file as an empty one; /dev/null is a way to say none)."""
    found = []
    for index, (variable, _) in enumerate(_FILES):
        path, problem = _file_path(index), ""
        if os.environ.get(variable) and not os.path.exists(path):
            problem = "no such file"
        elif os.environ.get(variable) and os.path.isdir(path):
            problem = "a folder"
        elif os.environ.get(variable) and not os.access(path, os.R_OK):
            problem = "not readable"
        found.append((index, problem))
    return found


def unusable_files() -> str:
    """``; AWS_SHARED_CREDENTIALS_FILE '/x': no such file`` for each file a variable names that botocore
    read nothing from (where credentials were lacking, the keys may have been meant to come from it)."""
    return "".join(f"; {_file_name(i)}: {problem}" for i, problem in _file_problems() if problem)


def _unparsable(error: object) -> str:
    """Why configparser refused a file, by line number only: the line itself may hold a secret key."""
    if isinstance(error, configparser.MissingSectionHeaderError):
        if _left_open(error.line):
            return f"the [section] header on line {error.lineno} is not closed; expected ']' at its end"
        return f"line {error.lineno} comes before any [section] header"
    if isinstance(error, configparser.DuplicateSectionError):
        return f"line {error.lineno} repeats the section [{error.section}]"
    if isinstance(error, configparser.DuplicateOptionError):
        return f"line {error.lineno} repeats {error.option} in [{error.section}]"
    if isinstance(error, configparser.ParsingError):
        lineno, line = error.errors[0]  # the first bad line
        if _left_open(_bad_line(line)):
            return f"the [section] header on line {lineno} is not closed; expected ']' at its end"
        return f"line {lineno} is neither a [section] nor KEY = VALUE"
    if isinstance(error, UnicodeDecodeError):
        return "it is not text"
    return "an indented block in it is not KEY = VALUE lines"


def _bad_line(kept: str) -> str:
    """A ParsingError's bad line: kept as its repr up to Python 3.12, as itself from 3.13 on."""
    try:
        line = ast.literal_eval(kept)
    except (ValueError, SyntaxError):
        return kept
    return line if isinstance(line, str) and repr(line) == kept else kept


def _left_open(line: str) -> bool:
    """Whether ``line`` is a [section] header never closed (``[profile team``): it starts with '[', has no ']'."""
    return line.strip().startswith("[") and "]" not in line
