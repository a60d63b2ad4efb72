"""``main``: parse, open the registry once, run the command; every error becomes one line."""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Sequence

from ..errors import FashionError
from .common import Handler
from .parser import build_parser

INTERNAL_ERROR = 70  # EX_SOFTWARE


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        if hasattr(args, "registry"):
            from .. import registry

            args.registry = registry.open(args.registry)  # resolved once, passed to everything
        code = int(handler(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's flush at exit
        return code
    except FashionError as exc:
        print(f"fashion: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("fashion: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # stdout closed by the reader (`| head`): stop quietly, as other tools do
        _quiet_stdout()
        return 141  # 128 + SIGPIPE
    except OSError as exc:  # a file or folder we were told to use, or the home folder
        _debug()
        print(f"fashion: error: {_os_error(exc)}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - the last resort: one line, never a traceback
        _debug()
        text = " ".join(str(exc).split())[:300]
        print(
            f"fashion: internal error: {exc.__class__.__name__}: {text} (a bug; FASHION_DEBUG=1 shows the traceback)",
            file=sys.stderr,
        )
        return INTERNAL_ERROR


def _quiet_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's final flush doesn't fail again at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _debug() -> None:
    if os.environ.get("FASHION_DEBUG", "").strip() not in ("", "0"):
        import traceback

        traceback.print_exc()


def _os_error(exc: OSError) -> str:
    """An OSError in words, naming the file and, when it is there, the home folder it is in."""
    from pathlib import Path

    from ..settings import display_path, home

    name = exc.filename or ""
    full = exc.errno in (errno.ENOSPC, errno.EDQUOT)
    why = "the disk is full" if full else _IN_WORDS.get(exc.errno, exc.strerror or str(exc))
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
}
