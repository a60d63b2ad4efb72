"""Paths and settings, resolved from the environment first, then defaults.

An empty variable means unset; one holding only spaces is a ConfigError naming it.

| setting             | environment variable     | default                                   |
|---------------------|--------------------------|-------------------------------------------|
| home                | ``FASHION_HOME``         | the project folder (else ``~/.fashion-mnist``) |
| registry            | ``FASHION_REGISTRY``     | ``<home>/registry`` (local) or ``s3://bucket`` |
| data folder         | ``FASHION_DATA_DIR``     | ``<home>/data``                            |
| raw IDX folder      | ``FASHION_RAW_DIR``      | unset: look in the standard places         |
| download mirrors    | ``FASHION_MIRRORS``      | the upstream mirrors (comma separated)     |
| data package name   | ``FASHION_DATA_PACKAGE`` | ``fashion-mnist/data``                     |
| model package name  | ``FASHION_MODEL_PACKAGE``| ``fashion-mnist/model``                    |
| outputs             | ``FASHION_OUTPUT_DIR``   | ``<home>/outputs``                         |
"""

from __future__ import annotations

import errno
import os
import re
import stat
from pathlib import Path

from .errors import ConfigError, DestinationError

PACKAGE_DIR = Path(__file__).resolve().parent
DEBIAN_DATASET_DIR = Path("/usr/share/datasets/fashion-mnist")
DEFAULT_MIRRORS = (
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",  # HTTP only; files are hash-checked
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
)
DEFAULT_DATA_PACKAGE = "fashion-mnist/data"
DEFAULT_MODEL_PACKAGE = "fashion-mnist/model"
TRAIN_CSV = "fashion-mnist_train.csv"
TEST_CSV = "fashion-mnist_test.csv"


# What each variable should hold, for the one line that names a blank one.
_EXPECTED = {
    "FASHION_HOME": "a folder",
    "FASHION_REGISTRY": "a registry folder or s3://BUCKET",
    "FASHION_DATA_PACKAGE": "a package name such as fashion-mnist/data",
    "FASHION_MODEL_PACKAGE": "a package name such as fashion-mnist/model",
    "FASHION_MIRRORS": "comma-separated URLs",
    "AWS_ENDPOINT_URL": "an S3 endpoint, http(s)://HOST[:PORT]",
    "AWS_ENDPOINT_URL_S3": "an S3 endpoint, http(s)://HOST[:PORT]",
}


def switched_on(name: str) -> bool:
    """Whether the on/off variable ``name`` (``FASHION_DEBUG``, ``FASHION_NO_APT``) is on: set to anything but
    empty, ``0``, ``false``, ``no`` or ``off`` (any case, spaces ignored)."""
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no", "off")


def _env(name: str) -> str | None:
    """The variable, stripped; None when unset or empty (empty means unset). Only spaces is a
    ConfigError naming it: a value was meant, and a default would hide that it was lost."""
    raw = os.environ.get(name, "")
    value = raw.strip()
    if raw and not value:
        raise ConfigError(
            f"{name} is only spaces; expected {_EXPECTED.get(name, 'a folder')}, or leave it empty or unset for the default"
        )
    return value or None


def project_root() -> Path | None:
    """The source checkout this library runs from, if any (editable installs)."""
    root = PACKAGE_DIR.parent
    return root if (root / "pyproject.toml").is_file() else None


def home() -> Path:
    """Where the embedded registry, data and outputs live by default. A ``FASHION_HOME`` that is a
    file, or lies under one, is a DestinationError naming the variable (not the registry inside it)."""
    if env := _env("FASHION_HOME"):
        return _folder_setting("FASHION_HOME", env, "the home folder (registry, data, outputs)")
    return project_root() or Path.home() / ".fashion-mnist"


def _folder_setting(name: str, value: str, expected: str) -> Path:
    """The folder the variable ``name`` holds; DestinationError naming it unless it is or can be
    a folder. Permissions are not judged here: a read-only folder still serves what is read."""
    path = Path(value).expanduser()
    why = _not_a_folder(path)
    if why:
        raise DestinationError(f"{name}={value!r} {why}; expected {expected}")
    return path


def _not_a_folder(path: Path) -> str | None:
    """Why ``path`` is no folder and cannot be made one (a file in the way, a loop of links); None if it can."""
    from .fsutil import looked_up

    try:
        mode = path.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        mode = None
    except OSError as exc:  # a loop of symbolic links, a name too long
        return looked_up(exc)
    if mode is not None:
        return None if stat.S_ISDIR(mode) else "is a file, not a folder"
    if os.path.islink(path):
        return f"is a symbolic link to {os.readlink(path)}, which does not exist"
    for parent in path.absolute().parents:
        if os.path.lexists(parent):
            return None if parent.is_dir() else f"cannot be made: {parent} is a file"
    return None


def registry(value: str | os.PathLike[str] | None = None) -> str:
    """The registry: an explicit value, ``FASHION_REGISTRY``, or the embedded local one.

    Returns ``s3://bucket`` unchanged, otherwise an absolute local path.
    """
    if value is not None and not isinstance(value, (str, os.PathLike)):  # registry=5 is no folder "./5"
        from .errors import expect

        expect(value, (str, os.PathLike), "registry", "a folder, file://FOLDER or s3://BUCKET (a str or Path)")
    chosen = str(value) if value else _env("FASHION_REGISTRY")
    if chosen and chosen.startswith("s3://"):
        return "s3://" + chosen[len("s3://") :].rstrip("/")  # "s3://" stays itself: a bucket is missing
    if chosen and re.match(r"(?i)file:", chosen):
        chosen = _file_url_path(chosen)
    elif chosen and re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", chosen):
        raise ConfigError(
            f"registry {chosen!r}: {chosen.split('://', 1)[0]}:// is not a registry; "
            "expected a folder, file://FOLDER or s3://BUCKET"
        )
    path = Path(chosen).expanduser() if chosen else home() / "registry"
    try:
        resolved: Path | None = path.resolve()
    except (RuntimeError, OSError):  # a symbolic link loop, before Python 3.13
        resolved = None
    if resolved is None or _loops(resolved):  # 3.13 resolves what it can and leaves a loop in the path
        named = "" if chosen else " (FASHION_HOME)"
        raise ConfigError(f"registry {path}{named}: a loop of symbolic links; expected a folder")
    return str(resolved)


def _loops(path: Path) -> bool:
    """Whether looking ``path`` up goes through a loop of symbolic links."""
    try:
        path.stat()
    except OSError as exc:
        return exc.errno == errno.ELOOP
    return False


def _file_url_path(url: str) -> str:
    """The absolute path a ``file:`` URL names (RFC 8089): ``file:///p``, ``file://localhost/p`` or
    ``file:/p``, percent-decoded. Another host, a relative path, ``?`` or ``#`` is a ConfigError."""
    from urllib.parse import unquote_to_bytes

    rest, host = url[len("file:") :], ""  # split by hand: urlsplit would drop tabs and line breaks
    if rest.startswith("//"):
        host, slash, tail = rest[2:].partition("/")
        rest = slash + tail
    try:  # the URL as this machine's file name bytes (a literal ü from argv under C is surrogate-escaped)
        raw = os.fsencode(rest)
    except UnicodeEncodeError:  # a character no file name here can hold: found missing later, in one line
        raw = rest.encode("utf-8", "surrogateescape")
    path = os.fsdecode(unquote_to_bytes(raw))  # %XX escapes name bytes, decoded as file names are here
    if host.lower() not in ("", "localhost"):
        why = (
            f"names the host {host!r}, and a registry on another machine is not supported "
            "(mount it and give its folder)"
        )
    elif "?" in url or "#" in url:
        why = "holds '?' or '#' (in a file URL, write them %3F and %23)"
    elif not path.startswith("/"):
        why = "names no absolute folder"
    elif "\0" in path:
        why = "holds %00, which no path can"
    else:
        return path
    raise ConfigError(f"registry {url!r}: {why}; expected file:///ABSOLUTE/PATH or a plain folder")


def data_dir() -> Path:
    """Working folder for the raw IDX files and the CSVs."""
    if env := _env("FASHION_DATA_DIR"):
        return _folder_setting("FASHION_DATA_DIR", env, "a folder for the raw files and CSVs")
    return home() / "data"


def output_dir() -> Path:
    """Default folder for training outputs (history, metrics, plots). A ``FASHION_OUTPUT_DIR`` that
    cannot be written or made is a DestinationError naming the variable (nothing is made)."""
    env = _env("FASHION_OUTPUT_DIR")
    if not env:
        return home() / "outputs"
    from .fsutil import unusable

    why = unusable(Path(env).expanduser(), folder=True)
    if why:
        raise DestinationError(f"FASHION_OUTPUT_DIR={env!r} {why}")
    return Path(env).expanduser()


def raw_dir() -> Path | None:
    """A user-given folder holding the four IDX files, if set."""
    env = _env("FASHION_RAW_DIR")
    return Path(env).expanduser() if env else None


def mirrors() -> tuple[str, ...]:
    """Base URLs to download the four upstream files from, in order."""
    env = _env("FASHION_MIRRORS")
    if not env:
        return DEFAULT_MIRRORS
    found = tuple(m.strip() if m.strip().endswith("/") else m.strip() + "/" for m in env.split(",") if m.strip())
    if not found:
        raise ConfigError(f"FASHION_MIRRORS is {env!r}; expected {_EXPECTED['FASHION_MIRRORS']}")
    return found


def s3_endpoint() -> str | None:
    """The S3 endpoint boto3 will use: ``AWS_ENDPOINT_URL_S3``, else ``AWS_ENDPOINT_URL`` (None: AWS's
    own). A value boto3 cannot use is a ConfigError naming the variable, before any client is built."""
    for name in ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"):
        if not _env(name):  # unset or empty: boto3 looks further too
            continue
        value = os.environ[name]
        why = _endpoint_problem(value)
        if why:
            raise ConfigError(f"{name} is {value!r}: {why}; expected {_EXPECTED[name]}, e.g. http://127.0.0.1:8333")
        return value
    return None


def _endpoint_problem(url: str) -> str | None:
    from urllib.parse import urlsplit

    if url != url.strip() or any(c.isspace() or not c.isprintable() for c in url):
        return "it holds spaces or control characters"
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not url.lower().startswith(("http://", "https://")):
        return "not an http:// or https:// URL"
    try:
        parts.port  # noqa: B018 - checks it: ValueError for a port that is no number 0..65535
    except ValueError:
        return "its port is not a number from 1 to 65535"
    if not parts.hostname:
        return "it names no host"
    from botocore.utils import is_valid_endpoint_url, is_valid_ipv6_endpoint_url

    if not (is_valid_endpoint_url(url) or is_valid_ipv6_endpoint_url(url)):
        return "not a host name boto3 accepts (letters, digits, hyphens and dots) or an IP address"
    return None


def display_path(path: str | os.PathLike[str]) -> str:
    """A path as a reader should see it: ``./x`` inside the working folder, ``~/x`` inside home; a working
    folder or home that is the file system's root (``HOME=/``, or an empty ``HOME``) shortens nothing."""
    text = str(path)
    if text.startswith("s3://"):
        return text
    resolved = Path(text).expanduser().resolve()
    for base, prefix in ((Path.cwd().resolve(), "."), (Path.home().resolve(), "~")):
        if base == base.parent:  # the root: every path is "inside" it
            continue
        try:
            relative = resolved.relative_to(base)
        except ValueError:
            continue
        return prefix if str(relative) == "." else f"{prefix}/{relative}"
    return text


def data_package() -> str:
    return _env("FASHION_DATA_PACKAGE") or DEFAULT_DATA_PACKAGE


def model_package() -> str:
    return _env("FASHION_MODEL_PACKAGE") or DEFAULT_MODEL_PACKAGE
