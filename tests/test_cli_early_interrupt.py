"""Ctrl-C in the first moments of ``fashion``, while its modules load (before :func:`fashion_lib.cli.main`
takes Ctrl-C), is ``fashion: interrupted`` and exit 130, never a traceback (before: a KeyboardInterrupt
traceback from the console script's ``from fashion_lib.cli import main``).

The child runs the console script pip writes for pyproject's ``[project.scripts]`` entry (whatever the
venv's own ``bin/fashion`` says until it is reinstalled). What remains before the entry point can take
Ctrl-C is Python's: the interpreter's own start (``site`` and its ``.pth`` files: tens of ms in an
editable install), then the script's own lines (the import of the ``fashion_lib`` package itself, pip's
``re.sub`` on ``argv[0]``: a few ms); the timed test's child announces when the entry point starts
loading the CLI.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def console_script() -> str:
    """The script pip installs as ``fashion`` (its ``console_scripts`` template), for pyproject's entry point."""
    entry = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]["fashion"]
    module, function = entry.split(":")
    return (
        "import re\nimport sys\n"
        f"from {module} import {function}\n"
        "if __name__ == '__main__':\n"
        "    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])\n"
        f"    sys.exit({function}())\n"
    )


def start(prelude: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", prelude + console_script(), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        # a child of a non-interactive shell (CI's) inherits SIGINT ignored; Python keeps ignoring it
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def interrupt(proc: subprocess.Popen, announcement: str, delay_s: float = 0) -> tuple[int, str, str]:
    """SIGINT ``delay_s`` after the child prints ``announcement``; its exit code, the rest of stdout, stderr."""
    try:
        line = proc.stdout.readline()
        assert line == announcement + "\n", (line, proc.stderr.read() if proc.poll() is not None else "")
        time.sleep(delay_s)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, out, err


# The child: pause when the CLI's parser module starts loading, saying so.
PAUSE_IN_THE_CLI_IMPORTS = """
import importlib.abc, sys, time

class Pause(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "fashion_lib.cli.parser":
            sys.meta_path.remove(self)
            print("importing", flush=True)
            time.sleep(60)
        return None

sys.meta_path.insert(0, Pause())
"""


def test_ctrl_c_while_the_cli_loads_is_an_interrupt():
    code, out, err = interrupt(start(PAUSE_IN_THE_CLI_IMPORTS, "--help"), "importing")
    assert (code, out, err) == (130, "", "fashion: interrupted\n")


# The child: say when the entry point starts loading the CLI (no pause).
ANNOUNCE_THE_CLI_IMPORTS = """
import importlib.abc, sys

class Announce(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "fashion_lib.cli":
            sys.meta_path.remove(self)
            print("started", flush=True)
        return None

sys.meta_path.insert(0, Announce())
"""


@pytest.mark.parametrize("delay_ms", [0, 5, 20, 40, 80])
def test_ctrl_c_early_in_the_command_is_never_a_traceback(delay_ms):
    """Real timing: Ctrl-C a few ms into ``fashion --help`` (the CLI loads in about 60 ms). Once the help is out,
    the interpreter's shutdown has put Ctrl-C back to the system's default, so one that arrives then ends the
    finished process by the signal (a shell's 130), printing nothing: seen on a loaded machine at 80 ms."""
    code, out, err = interrupt(start(ANNOUNCE_THE_CLI_IMPORTS, "--help"), "started", delay_ms / 1000)
    assert "Traceback" not in err, err
    assert (code, err) in ((130, "fashion: interrupted\n"), (0, ""), (-signal.SIGINT, "")), (code, err)
    assert code == 130 or out.startswith("usage: fashion")
    if code == -signal.SIGINT:
        assert out.rstrip().endswith(_help_end()), out[-300:]  # shutting down: every line of the help was out


def _help_end() -> str:
    """The help's last line, as the CLI prints it when nothing interrupts it."""
    done = subprocess.run([sys.executable, "-m", "fashion_lib", "--help"], capture_output=True, text=True, cwd=ROOT)
    return done.stdout.rstrip().splitlines()[-1]


# The child: a command that says which handlers it runs under.
SAY_HANDLERS = """
import signal
import fashion_lib.cli.packages

def say(args):
    print(signal.getsignal(signal.SIGINT).__qualname__, signal.getsignal(signal.SIGTERM).__qualname__)

fashion_lib.cli.packages.cmd_packages_list = say
print("started", flush=True)
"""


def test_the_command_still_runs_under_mains_own_handlers(tmp_path):
    """The entry point installs none of its own: ``main``'s Ctrl-C handler (which wants SIGINT's default
    handler to be there) and its SIGTERM handler are in place while the command runs."""
    proc = start(SAY_HANDLERS, "packages", "list", "--registry", str(tmp_path))
    out, err = proc.communicate(timeout=120)
    assert (proc.returncode, out, err) == (0, "started\nSigint._handler Sigterm._handler\n", "")


# The child: Ctrl-C lands in a weakref callback while the CLI loads (as importlib's module-lock callback took one
# 5 ms in, in CI on 2026-11-30): Python can't raise it there and would print "Exception ignored in ... Traceback".
INTERRUPT_IN_A_CALLBACK = """
import importlib.abc, sys, weakref

class Thing:
    pass

def interrupted(ref):
    raise KeyboardInterrupt

class Interrupt(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "fashion_lib.cli.parser":
            sys.meta_path.remove(self)
            thing = Thing()
            ref = weakref.ref(thing, interrupted)
            del thing
        return None

sys.meta_path.insert(0, Interrupt())
"""


def test_ctrl_c_inside_a_callback_while_the_cli_loads_is_an_interrupt_not_a_traceback():
    proc = start(INTERRUPT_IN_A_CALLBACK, "--help")
    out, err = proc.communicate(timeout=120)
    assert (proc.returncode, out, err) == (130, "", "fashion: interrupted\n")
