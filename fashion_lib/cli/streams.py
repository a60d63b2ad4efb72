"""The command's own streams and Ctrl-C: a closed or full stdout is named, an interrupt is remembered.

* :func:`standard_streams`: a standard stream the shell closed (``>&-``) becomes ``/dev/null``, as
  Python's own ``print`` treats it (output dropped), and no file the command opens takes its number.
* :func:`named_stdout`: an error writing the results (``> /dev/full``) names the standard output.
* :func:`showable_streams`: a character the output's encoding can't show (a path's ``ü`` under
  ``PYTHONIOENCODING=ascii`` or the C locale, an undecodable byte of a path) is printed escaped.
* :class:`Sigint`: remembers a Ctrl-C, so an error it turned into on its way out (awscrt's
  ``AwsCrtError``) is still reported as an interrupt; and keeps the traceback a library prints for
  a KeyboardInterrupt inside its callback (awscrt does) off stderr.
* :class:`Sigterm`: SIGTERM (``docker stop``, ``timeout``, systemd) takes Ctrl-C's path, and is remembered.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any, TextIO

from .. import settings

STDOUT = "<standard output>"  # the file name an OSError writing the results carries


def standard_streams() -> None:
    """Put ``/dev/null`` where the shell closed stdout or stderr (Python then has ``None`` there)."""
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115 - the process's stream


def quiet_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's final flush doesn't fail again at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


_ESCAPE = "fashion-surrogateescape-backslashreplace"  # the handler below, registered under this name


def _escape(err: UnicodeError) -> tuple[str | bytes, int]:
    """Encoding errors: a byte a path could not be decoded from (``surrogateescape``'s U+DC80..U+DCFF)
    goes back as that byte, as the stream did; any other character is written ``\\xfc``-style."""
    if not isinstance(err, UnicodeEncodeError):
        raise err
    text, start = err.object, err.start
    byte = _escaped_byte(text[start])
    stop = start + 1
    while stop < err.end and _escaped_byte(text[stop]) == byte:
        stop += 1
    if byte:
        return bytes(ord(char) - 0xDC00 for char in text[start:stop]), stop
    return text[start:stop].encode("ascii", "backslashreplace").decode("ascii"), stop


def _escaped_byte(char: str) -> bool:
    return "\udc80" <= char <= "\udcff"


codecs.register_error(_ESCAPE, _escape)

# A stream's error handler -> the one that shows every character; a lenient one the user chose stays.
_SHOWING = {"strict": "backslashreplace", "surrogateescape": _ESCAPE}


@contextlib.contextmanager
def showable_streams() -> Iterator[None]:
    """Within the block, stdout and stderr write what their encoding can't show escaped, never failing
    with UnicodeEncodeError (``PYTHONIOENCODING=ascii``, ``LC_ALL=C`` without UTF-8 mode). Streams that
    can't be reconfigured (a notebook's, a StringIO) are left as they are."""
    changed: list[tuple[Any, str]] = []
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        errors = getattr(stream, "errors", None)
        if errors in _SHOWING and callable(getattr(stream, "reconfigure", None)):
            with contextlib.suppress(OSError, ValueError):  # it flushes first: a closed pipe shows later
                stream.reconfigure(errors=_SHOWING[errors])
                changed.append((stream, errors))
    try:
        yield
    finally:
        for stream, errors in changed:
            with contextlib.suppress(OSError, ValueError):
                stream.reconfigure(errors=errors)


class _NamedStdout:
    """stdout, whose write errors (other than a reader gone: BrokenPipeError) name it."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        with _named():
            return self._stream.write(text)

    def flush(self) -> None:
        with _named():
            self._stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextlib.contextmanager
def _named() -> Iterator[None]:
    try:
        yield
    except BrokenPipeError:
        raise
    except OSError as exc:
        if not exc.filename:
            exc.filename = STDOUT
        raise


@contextlib.contextmanager
def named_stdout() -> Iterator[None]:
    """Within the block, ``sys.stdout`` names itself in its write errors."""
    stream = sys.stdout
    sys.stdout = _NamedStdout(stream)  # type: ignore[assignment]
    try:
        yield
    finally:
        if isinstance(sys.stdout, _NamedStdout):
            sys.stdout = stream


_DEFER_S = 0.05  # an interrupt that lands in awscrt's callback is raised again this much later ...
_DEFER_AT_MOST = 40  # ... up to this many times (2 s), then where it lands


def _in_awscrt(frame: Any) -> bool:
    """Whether the code running (or what called it) is awscrt's: a callback from its C code."""
    while frame is not None:
        if f"{os.sep}awscrt{os.sep}" in frame.f_code.co_filename:
            return True
        frame = frame.f_back
    return False


class Sigint:
    """Within the block, ``seen`` says whether Ctrl-C (SIGINT) came; it still raises KeyboardInterrupt.

    Only where SIGINT has Python's default handler (not in a thread, nor where it is ignored).
    """

    def __init__(self) -> None:
        self.seen = False
        self._previous: Any = None
        self._hook: Any = None
        self._deferred = 0
        self._again: threading.Timer | None = None

    def _handler(self, signum: int, frame: Any) -> None:
        self.seen = True
        self.interrupt(signal.SIGINT)

    def interrupt(self, signum: int) -> None:
        """Raise KeyboardInterrupt; inside awscrt's callback, send ``signum`` again a moment later instead."""
        # the stack running now (the frame a signal landed in, or one kept by whoever held it back)
        if self._deferred < _DEFER_AT_MOST and _in_awscrt(sys._getframe(1)):
            # Raised inside awscrt's callback (it reads upload bodies to sign them), KeyboardInterrupt would
            # be printed with a traceback and come out as AwsCrtError: ask again once the callback is done.
            self._deferred += 1
            self._again = threading.Timer(_DEFER_S, os.kill, (os.getpid(), signum))
            self._again.daemon = True
            self._again.start()
            return
        raise KeyboardInterrupt

    def _excepthook(self, kind: type[BaseException], value: BaseException, tb: Any) -> None:
        debugging = settings.switched_on("FASHION_DEBUG")
        if issubclass(kind, KeyboardInterrupt) and not debugging:
            return  # printed by a library that caught it in a callback (awscrt); we say "interrupted" once
        self._hook(kind, value, tb)

    def __enter__(self) -> Sigint:
        with contextlib.suppress(ValueError):  # ValueError: not the main thread
            if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
                self._previous = signal.signal(signal.SIGINT, self._handler)
        self._hook, sys.excepthook = sys.excepthook, self._excepthook
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._again is not None:
            self._again.cancel()
        if sys.excepthook == self._excepthook:
            sys.excepthook = self._hook
        if self._previous is not None:
            with contextlib.suppress(ValueError):
                signal.signal(signal.SIGINT, self._previous)


class Sigterm:
    """Within the block, SIGTERM takes Ctrl-C's path, and ``seen`` says it came.

    It is handed to SIGINT's Python handler of the moment (:class:`Sigint`'s, which waits out awscrt's
    callback, or the one holding Ctrl-C back while a push writes its version pointers), so the same
    cleanup runs; where SIGINT has none (ignored: ``nohup``, a background job) it raises
    KeyboardInterrupt itself, through ``sigint``'s :meth:`Sigint.interrupt`. Only where SIGTERM has
    its default action, in the main thread. Training's own handler (the run folder's) is then not
    installed: SIGTERM while a run writes is this KeyboardInterrupt, which removes the run's files.
    """

    def __init__(self, sigint: Sigint) -> None:
        self.seen = False
        self._sigint = sigint
        self._installed = False

    def _handler(self, signum: int, frame: Any) -> None:
        self.seen = True
        current = signal.getsignal(signal.SIGINT)
        if callable(current):
            current(signal.SIGINT, frame)
        else:
            self._sigint.interrupt(signal.SIGTERM)

    def __enter__(self) -> Sigterm:
        with contextlib.suppress(ValueError):  # ValueError: not the main thread
            if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
                signal.signal(signal.SIGTERM, self._handler)
                self._installed = True
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._installed:
            with contextlib.suppress(ValueError):
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
