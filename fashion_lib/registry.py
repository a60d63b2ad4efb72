"""Publish and fetch data packages: a local folder or an ``s3://`` bucket, through quilt3.

A registry is a folder (the embedded default is ``<project>/registry``) or an S3 bucket,
chosen by :func:`fashion_lib.settings.registry`; S3-compatible stores are reached through
the standard ``AWS_ENDPOINT_URL`` variable and the usual AWS credential chain.

What this layer adds to quilt3 8:

* **The registry holds its own copy of every file**, content-addressed under
  ``<registry>/objects/<sha256-chunked hex>``, in a folder as in a bucket. quilt3's
  ``build`` to a folder copies nothing (the manifest would point at the source files),
  and its default S3 layout overwrites ``<name>/<file>`` on every push, so on an
  unversioned bucket older versions would go bad. Identical files are stored once.
* **Every fetch is verified**: quilt3 does not check hashes, we check each file against
  the manifest before anything lands in ``dest`` (written beside it, then moved).
* **Nothing is re-sent**: an unchanged re-push is recognised from the top hash before
  any upload and returns the same hash.
* **No version is lost**: quilt3 names version pointers by the second; a second push in
  the same second would hide the first, so we keep the hidden one a second earlier.
* **Metadata and message come back** with :func:`fetch` (quilt3's ``fetch`` drops them).
* **Quiet and offline by default**: quilt3's usage metrics are off unless
  ``QUILT_DISABLE_USAGE_METRICS=false``; progress bars are off when ``CI`` is set.
  S3 clients are reused and have bounded retries and timeouts.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import os
import re
import sys
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Iterator, Mapping

from . import hashing, settings
from .errors import FashionError, IntegrityError, RegistryError
from .fsutil import make_public

OBJECTS = "objects"  # <registry>/objects/<hex>: the registry's own copies of package files
HASH_TYPE = hashing.SHA256_CHUNKED
CONNECT_TIMEOUT_S = 5
READ_TIMEOUT_S = 60
MAX_ATTEMPTS = 3  # botocore's "standard" retries, unless AWS_MAX_ATTEMPTS says otherwise
SHORT = 7

_quilt3: ModuleType | None = None
_clients: dict[tuple, Any] = {}
_clients_lock = threading.Lock()


@dataclass(frozen=True)
class PackageVersion:
    name: str
    top_hash: str
    created: datetime
    message: str | None


@dataclass(frozen=True)
class Fetched:
    name: str
    top_hash: str
    meta: dict
    message: str | None
    files: dict[str, Path]  # logical key -> local path
    dest: Path


# --- quilt3, imported lazily and configured once -------------------------------------


def quilt() -> ModuleType:
    """quilt3, imported on first use with usage metrics off (unless the user opted in)."""
    global _quilt3
    if _quilt3 is None:
        _quilt_environment()
        import quilt3
        import quilt3.backends
        import quilt3.data_transfer
        import quilt3.hooks
        import quilt3.telemetry

        if os.environ["QUILT_DISABLE_USAGE_METRICS"].lower() not in ("false", "no", "0"):
            quilt3.telemetry.ApiTelemetry.telemetry_disabled = True  # even if quilt3 was imported before us
        previous = quilt3.hooks.get_build_s3_client_hook()
        quilt3.hooks.set_build_s3_client_hook(_client_hook(previous))
        _quilt3 = quilt3
    return _quilt3


def _quilt_environment() -> None:
    """Settings quilt3 reads at import: no usage metrics (opt back in with ``false``), no bars on CI."""
    os.environ.setdefault("QUILT_DISABLE_USAGE_METRICS", "true")
    if os.environ.get("CI") or "ipykernel" in sys.modules:  # no bars on CI or in notebook outputs
        os.environ.setdefault("QUILT_MINIMIZE_STDOUT", "true")


def _client_key(session: Any, client_kwargs: dict[str, Any]) -> tuple:
    """What makes two S3 clients interchangeable: signing, identity (key and secret), region, endpoint."""
    config = client_kwargs.get("config")
    credentials = session.get_credentials()
    return (
        getattr(config, "signature_version", None) is not None,
        credentials.access_key if credentials else None,
        # a corrected secret for the same key must not meet the client built with the wrong one
        hashlib.sha256(credentials.secret_key.encode()).hexdigest() if credentials else None,
        session.region_name,
        session.profile_name,
        os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL"),
    )


def _with_limits(config: Any) -> Any:
    """quilt3's client config plus timeouts and bounded retries (quilt3's own settings win)."""
    from botocore.config import Config

    limits: dict[str, Any] = {"connect_timeout": CONNECT_TIMEOUT_S, "read_timeout": READ_TIMEOUT_S}
    if not os.environ.get("AWS_MAX_ATTEMPTS") and not os.environ.get("AWS_RETRY_MODE"):
        limits["retries"] = {"max_attempts": MAX_ATTEMPTS, "mode": "standard"}
    return Config(**limits).merge(config) if config is not None else Config(**limits)


def _client_hook(previous: Callable | None) -> Callable:
    """A quilt3 client hook: one client per identity and endpoint, reused (~0.3 s saved each)."""

    def hook(build_client_base, session, client_kwargs, **kwargs):
        key = _client_key(session, client_kwargs)
        with _clients_lock:
            if key not in _clients:
                client_kwargs = dict(client_kwargs, config=_with_limits(client_kwargs.get("config")))
                build = previous or (lambda base, s, kw, **k: base(s, kw, **k))
                _clients[key] = build(build_client_base, session, client_kwargs, **kwargs)
            return _clients[key]

    return hook


# --- errors ---------------------------------------------------------------------------


def describe(registry: str | None) -> str:
    """The registry in words: ``local registry /path`` or ``s3://bucket (endpoint URL)``."""
    where = settings.registry(registry)
    if not _is_s3(where):
        return f"local registry {settings.display_path(where)}"
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    return f"{where} (endpoint {endpoint})" if endpoint else where


ACCESS_HINT = ("check your AWS credentials (AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY) "
               "and the bucket's permissions")


def _client_error(exc: Any, where: str) -> str:
    error = exc.response.get("Error", {})
    code, text = str(error.get("Code", "")), error.get("Message") or str(exc)
    if code in ("NoSuchBucket",):
        return f"{where}: the bucket does not exist; create it or set FASHION_REGISTRY to another registry"
    if code in ("AccessDenied", "403", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken"):
        return f"{where}: access denied ({code}); {ACCESS_HINT}"
    if code in ("NoSuchKey", "404", "NoSuchVersion"):
        return f"{where}: an object the package needs is missing ({code}); the registry may be damaged"
    return f"{where}: S3 said {code}: {text}"


@contextlib.contextmanager
def _errors(registry: str, doing: str) -> Iterator[None]:
    """Turn botocore, quilt3 and file-system failures into one-line RegistryErrors."""
    import botocore.exceptions as bx

    q = quilt()
    where = describe(registry)
    try:
        yield
    except FashionError:
        raise
    except bx.ClientError as exc:
        raise RegistryError(f"{doing}: {_client_error(exc, where)}") from None
    except bx.NoCredentialsError:
        raise RegistryError(f"{doing}: no AWS credentials for {where}; set AWS_PROFILE or "
                            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY") from None
    except (bx.EndpointConnectionError, bx.ConnectTimeoutError, bx.ReadTimeoutError,
            bx.ConnectionClosedError) as exc:
        raise RegistryError(f"{doing}: cannot reach {where} ({exc}); check AWS_ENDPOINT_URL, "
                            "the network, or choose another registry with FASHION_REGISTRY") from None
    except bx.BotoCoreError as exc:
        raise RegistryError(f"{doing}: {where}: {exc}") from None
    except q.data_transfer.S3NoValidClientError:  # quilt3's word for a 403, signed and unsigned
        raise RegistryError(f"{doing}: {where}: access denied (HTTP 403); {ACCESS_HINT}") from None
    except q.util.QuiltException as exc:
        raise RegistryError(f"{doing}: {where}: {getattr(exc, 'message', exc)}") from None
    except OSError as exc:
        raise RegistryError(f"{doing}: {where}: {exc.strerror or exc}: {exc.filename or ''}") from None


# --- registry plumbing ----------------------------------------------------------------


def _is_s3(where: str) -> bool:
    return where.startswith("s3://")


def _url(where: str) -> str:
    """quilt3's spelling of a registry: ``s3://bucket`` or a ``file://`` URL."""
    return where if _is_s3(where) else Path(where).as_uri()


def _backend(where: str) -> Any:
    return quilt().backends.get_package_registry(_url(where))


def _check_name(name: str) -> None:
    if not re.fullmatch(r"[\w-]+/[\w-]+", name or ""):
        raise RegistryError(f"invalid package name {name!r}; expected 'owner/name' (letters, digits, _ and -)")


def _short(top_hash: str) -> str:
    return top_hash[:SHORT]


def _latest(backend: Any, name: str) -> str | None:
    """The ``latest`` pointer of a package, or None if the package is not there."""
    import botocore.exceptions as bx

    data_transfer = quilt().data_transfer
    try:
        return data_transfer.get_bytes(backend.pointer_latest_pk(name)).decode().strip()
    except FileNotFoundError:
        return None
    except bx.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
            return None
        raise


def _hashes(backend: Any, name: str) -> list[tuple[int, str]]:
    """(timestamp, top hash) of every version of a package, newest first, one per hash."""
    newest: dict[str, int] = {}
    for stamp, top_hash in backend.list_package_versions(name):
        if stamp.isdigit():  # skip "latest" and any other tag
            newest[top_hash] = max(newest.get(top_hash, 0), int(stamp))
    return sorted(((stamp, h) for h, stamp in newest.items()), reverse=True)


def _unknown_package(name: str, where: str, backend: Any) -> RegistryError:
    names = sorted(backend.list_packages())
    held = f"it holds {', '.join(names)}" if names else "it is empty"
    return RegistryError(f"package {name} is not in {describe(where)} ({held}); publish it first, "
                         "or point FASHION_REGISTRY at the registry that has it")


def resolve_top_hash(name: str, top_hash: str | None, *, registry: str | None = None) -> str:
    """The full top hash: the latest version, or the one version a (prefix of a) hash names."""
    where = settings.registry(registry)
    _check_name(name)
    with _errors(where, f"finding {name}"):
        backend = _backend(where)
        if top_hash is None:
            latest = _latest(backend, name)
            if latest is None:
                raise _unknown_package(name, where, backend)
            return latest
        return _match_hash(backend, name, top_hash.strip().lower(), where)


def _match_hash(backend: Any, name: str, prefix: str, where: str) -> str:
    if not re.fullmatch(r"[0-9a-f]{1,64}", prefix):
        raise RegistryError(f"{prefix!r} is not a top hash; expected hexadecimal digits (a prefix will do)")
    known = [h for _, h in _hashes(backend, name)]
    if not known and _latest(backend, name) is None:
        raise _unknown_package(name, where, backend)
    matches = [h for h in known if h.startswith(prefix)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        shown = ", ".join(_short(h) for h in matches[:5])
        raise RegistryError(f"{name}@{prefix} is ambiguous in {describe(where)} ({shown}); give more digits")
    if len(prefix) == 64 and _manifest_exists(backend, name, prefix):
        return prefix  # a version quilt3 has no pointer for (e.g. made by other tools)
    shown = ", ".join(_short(h) for h in known[:5]) + (", ..." if len(known) > 5 else "")
    raise RegistryError(f"{name} has no version {prefix} in {describe(where)}; known versions: {shown}")


def _manifest_exists(backend: Any, name: str, top_hash: str) -> bool:
    try:
        quilt().data_transfer.get_size_and_version(backend.manifest_pk(name, top_hash))
        return True
    except Exception:  # noqa: BLE001 - any failure means "not usable"
        return False


# --- push -----------------------------------------------------------------------------


def _object_name(value: str) -> str:
    return base64.b64decode(value).hex()


def _entries(files: Mapping[str, Path]) -> dict[str, tuple[Path, int, str]]:
    """logical key -> (source, size, hash), refusing missing sources with a clear message."""
    entries = {}
    for key, source in files.items():
        source = Path(source)
        if not source.is_file():
            raise RegistryError(f"cannot publish {key!r}: {source} is not a file")
        entries[key] = (source, source.stat().st_size, hashing.file_hash(source, HASH_TYPE))
    return entries


def _package(entries: Mapping[str, tuple[Path, int, str]], meta: dict | None, message: str | None,
             location: Callable[[Path, str], Any]) -> Any:
    """A quilt3 Package whose entries carry our hashes, so quilt3 does not hash again."""
    q = quilt()
    pkg = q.Package()
    for key, (source, size, value) in sorted(entries.items()):
        entry = q.packages.PackageEntry(location(source, value), size, {"type": HASH_TYPE, "value": value}, None)
        pkg.set(key, entry)
    pkg.set_meta(dict(meta or {}))
    pkg._set_commit_message(message)  # so top_hash is the hash build/push will record
    return pkg


def _store_locally(where: str, entries: Mapping[str, tuple[Path, int, str]]) -> None:
    """Copy each file into ``<registry>/objects`` unless an object of that hash is there."""
    objects = Path(where) / OBJECTS
    objects.mkdir(parents=True, exist_ok=True)
    for key, (source, size, value) in entries.items():
        target = objects / _object_name(value)
        if target.is_file() and target.stat().st_size == size:
            continue
        before = source.stat()
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=objects)
        os.close(fd)
        make_public(tmp)
        try:
            shutil.copyfile(source, tmp)
            after = source.stat()
            if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns) or after.st_size != size:
                raise RegistryError(f"{source} changed while it was being published as {key!r}; publish again")
            os.replace(tmp, target)
        finally:
            Path(tmp).unlink(missing_ok=True)


def _pointer_names(backend: Any, name: str) -> dict[str, str]:
    """Timestamp pointers from this second on (quilt3 names versions by the second)."""
    data_transfer = quilt().data_transfer
    now = int(time.time())
    try:
        names = [n for n, _ in data_transfer.list_url(backend.pointers_dir(name))]
    except FileNotFoundError:
        return {}
    recent = [n for n in names if n.isdigit() and int(n) >= now]
    return {n: data_transfer.get_bytes(backend.pointer_pk(name, n)).decode().strip() for n in recent}


def _keep_hidden_versions(backend: Any, name: str, before: dict[str, str]) -> None:
    """Re-point versions that a push in the same second overwrote, one second earlier."""
    data_transfer = quilt().data_transfer
    for stamp, top_hash in before.items():
        now = data_transfer.get_bytes(backend.pointer_pk(name, stamp)).decode().strip()
        if now == top_hash:
            continue
        taken = {n for n, _ in data_transfer.list_url(backend.pointers_dir(name))}
        earlier = int(stamp) - 1
        while str(earlier) in taken:
            earlier -= 1
        data_transfer.put_bytes(top_hash.encode(), backend.pointer_pk(name, str(earlier)))


def push(name: str, files: Mapping[str, Path], *, registry: str | None = None, meta: dict | None = None,
         message: str | None = None, readme: str | None = None) -> str:
    """Publish ``files`` (logical key -> path) as a new version of ``name``; returns its top hash.

    ``readme`` becomes ``README.md`` in the package. An unchanged re-push uploads nothing
    and returns the same top hash.
    """
    where = settings.registry(registry)
    _check_name(name)
    with tempfile.TemporaryDirectory(prefix="fashion-push-") as scratch:
        files = dict(files)
        if readme is not None:
            (Path(scratch) / "README.md").write_text(readme, encoding="utf-8")
            files["README.md"] = Path(scratch) / "README.md"
        with _errors(where, f"publishing {name}"):
            entries = _entries(files)
            return (_push_s3 if _is_s3(where) else _push_local)(name, where, entries, meta, message)


def _push_local(name: str, where: str, entries: dict, meta: dict | None, message: str | None) -> str:
    objects = Path(where) / OBJECTS
    pkg = _package(entries, meta, message, lambda _, value: quilt().util.PhysicalKey.from_path(
        objects / _object_name(value)))
    backend = _backend(where)
    top_hash = pkg.top_hash
    _store_locally(where, entries)  # also repairs missing objects of an unchanged package
    if _latest(backend, name) == top_hash:
        return top_hash
    before = _pointer_names(backend, name)
    pkg.build(name, registry=_url(where), message=message)
    _keep_hidden_versions(backend, name, before)
    return top_hash


def _push_s3(name: str, where: str, entries: dict, meta: dict | None, message: str | None) -> str:
    q = quilt()
    pkg = _package(entries, meta, message, lambda source, _: q.util.PhysicalKey.from_path(source))
    backend = _backend(where)
    top_hash = pkg.top_hash
    if _latest(backend, name) == top_hash:
        return top_hash  # nothing to upload, not even the manifest
    before = _pointer_names(backend, name)

    def dest(logical_key: str, entry: Any) -> str:
        return f"{where}/{OBJECTS}/{_object_name(entry.hash['value'])}"

    with contextlib.redirect_stdout(io.StringIO()):  # quilt3 prints catalog hints we don't need
        pushed = pkg.push(name, registry=where, dest=dest, message=message, force=True, dedupe=True)
    _keep_hidden_versions(backend, name, before)
    return pushed.top_hash


# --- fetch and read -------------------------------------------------------------------


def _browse(name: str, where: str, top_hash: str) -> Any:
    return quilt().Package.browse(name, registry=_url(where), top_hash=top_hash)


def _header(pkg: Any) -> dict:
    return next(iter(pkg.manifest))


def read_meta(name: str, *, registry: str | None = None, top_hash: str | None = None) -> tuple[str, dict, str | None]:
    """(top hash, user metadata, message) of a version, reading only its manifest."""
    where = settings.registry(registry)
    resolved = resolve_top_hash(name, top_hash, registry=where)
    with _errors(where, f"reading {name}@{_short(resolved)}"):
        header = _header(_browse(name, where, resolved))
    return resolved, dict(header.get("user_meta") or {}), header.get("message")


def list_versions(*, registry: str | None = None, name: str | None = None) -> list[PackageVersion]:
    """Every version of every package (or of ``name``) in the registry, newest first."""
    where = settings.registry(registry)
    if name is not None:
        _check_name(name)
    with _errors(where, "listing packages"):
        backend = _backend(where)
        names = [name] if name else sorted(set(backend.list_packages()))
        versions = [
            PackageVersion(pkg_name, top_hash, datetime.fromtimestamp(stamp, timezone.utc),
                           _header(_browse(pkg_name, where, top_hash)).get("message"))
            for pkg_name in names for stamp, top_hash in _hashes(backend, pkg_name)
        ]
    return sorted(versions, key=lambda v: (v.created, v.name), reverse=True)


def fetch_to_cache(name: str, *, registry: str | None = None, top_hash: str | None = None,
                   dest: Path | None = None) -> Fetched:
    """Fetch a version into ``dest``, by default a folder of its own under the data folder."""
    resolved = resolve_top_hash(name, top_hash, registry=registry)
    dest = dest or settings.data_dir() / "packages" / name.replace("/", "__") / resolved[:12]
    return fetch(name, dest, registry=registry, top_hash=resolved)


def fetch(name: str, dest: Path, *, registry: str | None = None, top_hash: str | None = None) -> Fetched:
    """Download a version into ``dest`` after checking every file against the manifest.

    Files are fetched into a temporary folder beside ``dest`` and moved into place only
    when all of them match: on failure nothing is left half-written.
    """
    where = settings.registry(registry)
    resolved = resolve_top_hash(name, top_hash, registry=where)
    label = f"{name}@{_short(resolved)}"
    dest = Path(dest).expanduser().absolute()
    with _errors(where, f"fetching {label}"):
        dest.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".fetching", dir=dest.parent))
        make_public(staging, directory=True)
    try:
        with _errors(where, f"fetching {label}"):
            pkg = _browse(name, where, resolved)
            header = _header(pkg)
            pkg.fetch(str(staging) + os.sep)
        keys = _verify(pkg, staging, label, where)
        with _errors(where, f"fetching {label}"):
            files = _move_into_place(staging, dest, keys)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return Fetched(name, resolved, dict(header.get("user_meta") or {}), header.get("message"), files, dest)


def _verify(pkg: Any, staging: Path, label: str, where: str) -> list[str]:
    """Check size and hash of every fetched file; IntegrityError names the first bad one."""
    keys = []
    for key, entry in pkg.walk():
        path = staging / key
        expected = entry.hash or {}
        size = path.stat().st_size if path.is_file() else None
        if size != entry.size or _hash_or_none(path, expected.get("type", "")) != expected.get("value"):
            raise IntegrityError(
                f"{key} in {label} does not match its hash in the manifest ({size} bytes, expected "
                f"{entry.size}): the copy in {describe(where)} is corrupted or was overwritten after "
                "publishing; republish the package or fetch another version")
        keys.append(key)
    return keys


def _hash_or_none(path: Path, hash_type: str) -> str | None:
    try:
        return hashing.file_hash(path, hash_type)
    except ValueError:  # a hash type quilt3 does not know: cannot be verified, so refused
        return None


def _move_into_place(staging: Path, dest: Path, keys: list[str]) -> dict[str, Path]:
    """Rename the staging folder to ``dest``, or move each file into an existing ``dest``."""
    for key in keys:  # copies keep the registry object's mode; fetched files should look like new ones
        make_public(staging / key)
    if not dest.exists():
        os.replace(staging, dest)
    else:
        for key in keys:
            target = dest / key
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / key, target)
    return {key: dest / key for key in keys}
