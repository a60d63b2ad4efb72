"""``main``: parse, open the registry once, run the command; every error becomes one line."""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Sequence

from .. import settings
from ..errors import FashionError
from .common import Handler, open_registry
from .names import check_package_variables
from .parser import build_parser
from .streams import STDOUT, Sigint, Sigterm, named_stdout, quiet_stdout, showable_streams, standard_streams

INTERRUPTED = 130  # 128 + SIGINT, what a shell shows for Ctrl-C
TERMINATED = 143  # 128 + SIGTERM: docker stop, timeout, systemd
INTERNAL_ERROR = 70  # EX_SOFTWARE


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command ``argv`` (default: the process's arguments); the exit code of the README's table.
    SIGTERM, within, takes Ctrl-C's path (:class:`.streams.Sigterm`), then says ``fashion: terminated``."""
    standard_streams()
    with Sigint() as sigint, Sigterm(sigint) as sigterm, showable_streams(), named_stdout():
        try:
            parser = build_parser()
            args = parser.parse_args(argv)  # inside the try: nothing it raises escapes as a traceback
            handler: Handler | None = getattr(args, "handler", None)
            if handler is None:
                parser.print_help()
                return 2
            check_package_variables(args)
            if hasattr(args, "registry"):
                args.registry = open_registry(args.registry)  # resolved once, passed to everything
            code = int(handler(args) or 0)
            sys.stdout.flush()  # a closed pipe or a full disk shows here, not in the interpreter's flush at exit
            return code
        except KeyboardInterrupt as exc:
            return _interrupted(exc, terminated=sigterm.seen)
        except Exception as exc:  # noqa: BLE001 - every error is one line, never a traceback
            return _report(exc, interrupted=sigint.seen or sigterm.seen, terminated=sigterm.seen)


def _interrupted(exc: BaseException | None = None, *, terminated: bool = False) -> int:
    """``fashion: interrupted`` (``terminated``, for SIGTERM), and what the interrupt says, if anything
    (the version a push published)."""
    said = " ".join(str(exc).split()) if isinstance(exc, KeyboardInterrupt) else ""
    print(f"fashion: {'terminated' if terminated else 'interrupted'}{f': {said}' if said else ''}", file=sys.stderr)
    return TERMINATED if terminated else INTERRUPTED


def _report(exc: Exception, *, interrupted: bool, terminated: bool = False) -> int:
    """Print ``exc`` as one line on stderr; the exit code the README's table gives it."""
    if interrupted or _caused_by_interrupt(exc):  # Ctrl-C that surfaced as another error (awscrt's AwsCrtError)
        _debug(exc)
        return _interrupted(terminated=terminated)
    if isinstance(exc, FashionError):
        print(f"fashion: error: {exc}", file=sys.stderr)
        return exc.exit_code
    if isinstance(exc, BrokenPipeError):  # stdout closed by the reader (`| head`): stop quietly, as other tools do
        quiet_stdout()
        return 141  # 128 + SIGPIPE
    if isinstance(exc, OSError):  # a file or folder we were told to use, the home folder, or stdout
        _debug(exc)
        if exc.filename == STDOUT:
            quiet_stdout()  # what could not be written must not fail again at exit
        print(f"fashion: error: {_os_error(exc)}", file=sys.stderr)
        return 2
    _debug(exc)
    text = " ".join(str(exc).split())[:300]
    print(
        f"fashion: internal error: {exc.__class__.__name__}: {text} (a bug; FASHION_DEBUG=1 shows the traceback)",
        file=sys.stderr,
    )
    return INTERNAL_ERROR


def _caused_by_interrupt(exc: BaseException) -> bool:
    """Whether a KeyboardInterrupt is among the exceptions that led to ``exc``."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, KeyboardInterrupt):
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return False


def _debug(exc: BaseException) -> None:
    if settings.switched_on("FASHION_DEBUG"):
        import traceback

        traceback.print_exception(exc)


def _os_error(exc: OSError) -> str:
    """An OSError in words, naming the file and, when it is there, the home folder it is in."""
    from pathlib import Path

    from ..fsutil import disk_full, looked_up
    from ..settings import display_path, home

    name = exc.filename or ""
    full = disk_full(exc)
    if full:
        why = "the disk is full"
    elif exc.errno == errno.ENAMETOOLONG:  # one name over 255 bytes, or the whole path too long
        why = f"the path {looked_up(exc)}"
    else:
        why = _IN_WORDS.get(exc.errno, exc.strerror or str(exc))
    if name == STDOUT:
        return f"cannot write to standard output: {why}"
    where = ""
    if name:
        try:
            Path(os.path.abspath(name)).relative_to(Path(home()).absolute())
            remedy = (
                "free some space there or set FASHION_HOME to a folder on another disk"
                if full
                else "set FASHION_HOME to a writable folder"
            )
            where = f" (in the home folder {display_path(home())}; {remedy})"
        except (ValueError, FashionError):  # not in the home folder, or FASHION_HOME itself is wrong
            pass
    return f"cannot use {name or 'a file'}: {why}{where}"


# The errors a path the user gave can cause, in the words of what was expected.
_IN_WORDS = {
    errno.EEXIST: "it is a file; expected a folder",
    errno.ENOTDIR: "part of the path is a file, not a folder",
    errno.EISDIR: "it is a folder; expected a file",
    errno.ELOOP: "the path goes through a loop of symbolic links",
}
