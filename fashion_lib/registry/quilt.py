"""quilt3, imported lazily and configured once: usage metrics off, one S3 client per identity.

quilt3 is used to write manifests exactly as stock quilt3 does (so it can read them) and
to build S3 clients; reading is done by :mod:`.store` implementations, never by quilt3.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import threading
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

from ..console import progress_bars
from ..errors import ConfigError
from .s3_errors import NotS3Answer, from_s3
from .s3_settings import check_settings, profile_retries
from .silence import watch_silence

CONNECT_TIMEOUT_S = 5
READ_TIMEOUT_S = 60
MAX_ATTEMPTS = 3  # retries in botocore's "standard" mode: 4 attempts in all, where no retry setting says otherwise
# Attempts botocore 1.44 makes in each mode for S3 where no max_attempts is set: retries/standard.py's
# DEFAULT_MAX_ATTEMPTS, and data/_retry.json's __default__ max_attempts for legacy (tests/test_registry_retries.py
# counts a plain botocore client's, so an upgrade that changes one fails there)
BOTOCORE_ATTEMPTS = {"standard": 3, "adaptive": 3, "legacy": 5}

_quilt3: ModuleType | None = None
_clients: dict[tuple, Any] = {}
_clients_lock = threading.Lock()


def quilt() -> ModuleType:
    """quilt3, imported on first use with usage metrics off (unless the user opted in)."""
    global _quilt3
    if _quilt3 is None:
        _quilt_environment()
        try:
            with _without_iri_formats():
                import quilt3
            import quilt3.backends
            import quilt3.data_transfer
            import quilt3.hooks
            import quilt3.telemetry
        except BaseException as exc:  # Ctrl-C during the import (it takes seconds): keep no half of it
            _forget_quilt3()
            problem = settings_problem() if isinstance(exc, Exception) else None
            if problem:  # quilt3's settings file under HOME or XDG_DATA_HOME, not a bug: said in one line
                raise problem from exc
            raise
        if os.environ["QUILT_DISABLE_USAGE_METRICS"].lower() not in ("false", "no", "0"):
            quilt3.telemetry.ApiTelemetry.telemetry_disabled = True  # even if quilt3 was imported before us
        previous = quilt3.hooks.get_build_s3_client_hook()
        quilt3.hooks.set_build_s3_client_hook(_client_hook(previous))
        _quilt3 = quilt3
    return _quilt3


@contextlib.contextmanager
def _without_iri_formats() -> Iterator[None]:
    """Import with ``rfc3987_syntax`` hidden, unless something already imported it or jsonschema.

    quilt3 imports jsonschema, which imports the optional ``rfc3987_syntax`` (installed here for
    JupyterLab) to check the ``iri`` formats: it compiles 38 lark grammars at import, about
    three quarters of quilt3's import time, and so of every ``fashion`` command that reads a
    registry (``benchmarks/import_bench.py``). Nothing here checks an ``iri`` format (quilt3
    validates against a schema only for a bucket with a workflows config, where such a format is
    then not checked). Other code imports the module normally afterwards.
    """
    hide = "rfc3987_syntax" not in sys.modules and "jsonschema" not in sys.modules
    if hide:
        sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]  # import raises ImportError
    try:
        yield
    finally:
        if hide and sys.modules.get("rfc3987_syntax", 0) is None:
            del sys.modules["rfc3987_syntax"]


def settings_problem() -> ConfigError | None:
    """Why quilt3's import would fail on its settings file (``$XDG_DATA_HOME/Quilt/config.yml``, else
    ``~/.local/share/Quilt/config.yml``: quilt3's ``util.load_config``, read as it reads it), or None. Not asked
    once quilt3 is imported. Cheap (no quilt3 import): asked before a run that publishes does any work."""
    if _quilt3 is not None:
        return None
    import platformdirs
    import yaml

    try:
        path = os.path.join(platformdirs.user_data_dir("Quilt", "QuiltData"), "config.yml")  # quilt3's own call
    except RuntimeError:  # no absolute HOME or XDG_DATA_HOME, and no home for this user id in /etc/passwd
        return ConfigError(
            f"quilt3 finds no folder for its settings (HOME is {_home_state()}, and user id {os.getuid()} has no "
            "home in /etc/passwd); set HOME to your own home, or XDG_DATA_HOME to a folder you can read"
        )
    try:
        with open(path) as stream:  # as quilt3 opens it (the locale's encoding)
            settings: dict = {}
            settings.update(yaml.safe_load(stream))
    except FileNotFoundError:
        return None
    except (OSError, yaml.YAMLError, ValueError, TypeError) as exc:
        where, what, advice = _under(path), _what_is_wrong(exc), _advice(exc, path)
        return ConfigError(f"quilt3's settings file {path} ({where}) {what}; {advice}")
    # quilt3's import writes the file again (a backup renamed beside it) where telemetry_disabled has no value
    if "telemetry_disabled" in settings and settings["telemetry_disabled"] is None:
        if not os.access(os.path.dirname(path), os.W_OK | os.X_OK):
            return ConfigError(
                f"quilt3's settings file {path} ({_under(path)}) holds telemetry_disabled without a value, so quilt3 "
                "writes it again at import, and its folder is not writable by you; set telemetry_disabled to true "
                "or false there, or XDG_DATA_HOME to a folder of your own"
            )
    return None


def _what_is_wrong(exc: BaseException) -> str:
    """The settings file's fault in words: unreadable (why), not YAML (where), or not a mapping of settings."""
    import yaml

    if isinstance(exc, OSError):
        return f"cannot be read ({exc.strerror or exc})"
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        return f"is not valid YAML (line {mark.line + 1}, column {mark.column + 1}: {exc.problem})"
    if isinstance(exc, yaml.YAMLError):
        return f"is not valid YAML ({' '.join(str(exc).split())})"
    if isinstance(exc, UnicodeDecodeError):
        return f"is not {exc.encoding} text ({exc.reason} at byte {exc.start})"
    return "holds no settings (quilt3 reads a mapping of names to values there)"


def _under(path: str) -> str:
    """Which variable put the settings file where it is: XDG_DATA_HOME when set (absolute), else HOME."""
    xdg = os.environ.get("XDG_DATA_HOME", "")
    if os.path.isabs(xdg) and path.startswith(xdg):
        return f"from XDG_DATA_HOME={xdg}"
    home = os.environ.get("HOME", "")
    return f"from HOME={home}" if os.path.isabs(home) else f"in your account's home: HOME is {_home_state()}"


def _home_state() -> str:
    return "unset" if os.environ.get("HOME") is None else f"{os.environ['HOME']!r}, not an absolute path"


def _advice(exc: BaseException, path: str) -> str:
    if not isinstance(exc, OSError):
        return "fix it, or move it away (quilt3 then uses its defaults)"
    if _under(path).startswith("from XDG_DATA_HOME"):
        return "set XDG_DATA_HOME to a folder you can read, or unset it"
    return "set HOME to your own home, or XDG_DATA_HOME to a folder you can read"


def _forget_quilt3() -> None:
    """Drop every quilt3 module from ``sys.modules``, so the next import starts afresh, not from what an
    interrupted one left (a package without the submodules it binds: "no attribute 'telemetry'")."""
    for name in [name for name in sys.modules if name == "quilt3" or name.startswith("quilt3.")]:
        del sys.modules[name]


def _quilt_environment() -> None:
    """Settings quilt3 reads at import: no usage metrics (opt back in with ``false``), no bars on CI."""
    os.environ.setdefault("QUILT_DISABLE_USAGE_METRICS", "true")
    if not progress_bars():  # no bars on CI or in notebook outputs: the rule the project's own bars follow
        os.environ.setdefault("QUILT_MINIMIZE_STDOUT", "true")


def _client_key(session: Any, client_kwargs: dict[str, Any], retries: dict[str, Any]) -> tuple:
    """What makes two S3 clients interchangeable: signing, identity (key and secret), region, endpoint, retries."""
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
        tuple(sorted(retries.items())),
    )


def _with_limits(config: Any, retries: dict[str, Any]) -> Any:
    """quilt3's client config plus timeouts and bounded retries (quilt3's own settings win)."""
    from botocore.config import Config

    limits = {"connect_timeout": CONNECT_TIMEOUT_S, "read_timeout": READ_TIMEOUT_S, "retries": retries}
    return Config(**limits).merge(config) if config is not None else Config(**limits)


def _retries(session: Any) -> dict[str, Any]:
    """The retries botocore would set up for ``session``, each setting where botocore looks for it:
    ``AWS_MAX_ATTEMPTS`` and ``AWS_RETRY_MODE`` (checked by ``check_settings``; empty means unset), else the
    profile's ``max_attempts`` and ``retry_mode`` (:func:`.s3_settings.profile_retries`). Where neither is
    set anywhere, ours: 4 attempts in standard mode (bounded, and said when slow or retrying: :mod:`.silence`).
    Given to botocore outright: it would read an empty variable itself and fail on it.

    One set alone takes botocore's default for the other: mode ``standard`` (botocore 1.44, the locked
    version: ``retry_mode``'s default in ``configprovider``, and ``args._compute_retry_mode``), though older
    boto3 guides still say ``legacy``; attempts :data:`BOTOCORE_ATTEMPTS` for the mode (legacy makes 5).
    tests/test_registry_retries.py compares with a plain botocore client, so an upgrade fails there."""
    check_settings()
    attempts = os.environ.get("AWS_MAX_ATTEMPTS", "").strip()
    mode = os.environ.get("AWS_RETRY_MODE", "").strip()
    unset = tuple(key for key, value in (("max_attempts", attempts), ("retry_mode", mode)) if not value)
    # The profile's, for those no variable sets (botocore reads no other); called even when both are set,
    # for it checks the profile's metadata_service_num_attempts too.
    profile = profile_retries(session, unset)
    attempts, mode = attempts or profile.get("max_attempts", ""), mode or profile.get("retry_mode", "")
    if not (attempts or mode):
        return {"total_max_attempts": MAX_ATTEMPTS + 1, "mode": "standard"}
    mode = mode or "standard"
    return {"total_max_attempts": int(attempts) if attempts else BOTOCORE_ATTEMPTS[mode], "mode": mode}


def _client_hook(previous: Callable | None) -> Callable:
    """A quilt3 client hook: one client per identity and endpoint, reused (~0.3 s saved each)."""

    def hook(build_client_base, session, client_kwargs, **kwargs):
        retries = _retries(session)
        key = _client_key(session, client_kwargs, retries)
        with _clients_lock:
            if key not in _clients:
                client_kwargs = dict(client_kwargs, config=_with_limits(client_kwargs.get("config"), retries))
                build = previous or (lambda base, s, kw, **k: base(s, kw, **k))
                _clients[key] = build(build_client_base, session, client_kwargs, **kwargs)
                watch_silence(_clients[key])
                _refuse_what_s3_never_says(_clients[key])
            return _clients[key]

    return hook


def _refuse_what_s3_never_says(client: Any) -> None:
    """NotS3Answer for an answer that no S3 server gives, before botocore reads it as S3's: a web server's
    404 page was "S3 said 404: Not Found", and its 200 page an empty bucket."""
    endpoint = client.meta.endpoint_url

    def before_parse(operation_model: Any, response_dict: dict, **_: Any) -> None:
        what = not_s3(response_dict, operation_model.name)
        if what:
            raise NotS3Answer(endpoint, what)

    client.meta.events.register("before-parse.s3", before_parse, unique_id="fashion-refuses-what-s3-never-says")


def not_s3(response: dict, operation: str) -> str | None:
    """What shows an answer without S3's ``x-amz-*`` headers to be no S3 server's, or None: a web page, an
    error without S3's XML error (a HEAD's has no body), a listing in no XML. Other 5xx answers are left to
    botocore's retries (a gateway's passing trouble); ``s3_errors`` judges the last one."""
    headers = {str(key).lower(): str(value) for key, value in response.get("headers", {}).items()}
    status, body = int(response.get("status_code") or 0), response.get("body")
    kind = headers.get("content-type", "").split(";")[0].strip().lower()
    page = "a web page" if kind == "text/html" else kind or "a body"
    xml = isinstance(body, bytes) and body.lstrip()[:5] in (b"<?xml", b"<Erro")
    if from_s3(headers):
        return None
    if status == 500 and isinstance(body, bytes) and body.strip() and not xml:
        return f"{page} where S3 sends XML"  # botocore makes a 200 it cannot parse a 500, to retry it
    if status >= 500:
        return None
    if kind == "text/html":
        return f"HTTP {status} with a web page"
    if status >= 300 and not operation.startswith("Head") and isinstance(body, bytes) and b"<Code>" not in body:
        return f"HTTP {status} without an S3 error in it"
    if status < 300 and operation.startswith("List") and kind and "xml" not in kind:
        return f"{page} where S3 sends XML"
    return None


def s3_client() -> Any:
    """An S3 client built the way quilt3 builds its own (hooks, credentials, endpoint)."""
    return quilt().data_transfer.S3ClientProvider().standard_client
