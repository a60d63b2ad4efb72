"""Ctrl-C is always "fashion: interrupted", exit 130: also when it lands in quilt3's import (the
first seconds of every S3 command) or in awscrt's callback that reads an upload to sign it.

Real SIGINTs, sent by this process to a real ``fashion`` process. To land them at those moments
every time, not by luck, the child announces on stdout when it gets there and waits a moment;
nothing else in it is changed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import seaweedfs  # tests/ is on sys.path

ROOT = Path(__file__).resolve().parents[1]

# The child: pause when quilt3 starts importing its telemetry module (quilt3/__init__ does), saying so.
PAUSE_IN_QUILT3_IMPORT = """
import importlib.abc, sys, time

class Pause(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "quilt3.telemetry":
            sys.meta_path.remove(self)
            print("importing quilt3", flush=True)
            time.sleep(60)
        return None

sys.meta_path.insert(0, Pause())
"""

RUN_CLI = """
from fashion_lib.cli import main
sys.exit(main(sys.argv[1:]))
"""


def start(script: str, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
        # a child of a non-interactive shell (CI's) inherits SIGINT ignored; Python keeps ignoring it
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def interrupt_at(proc: subprocess.Popen, announcement: str) -> tuple[int, str, str]:
    """Send SIGINT once the child prints ``announcement``; its exit code, the rest of its stdout, and stderr."""
    try:
        line = proc.stdout.readline()
        assert line.strip() == announcement, (line, proc.stderr.read() if proc.poll() is not None else "")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, out, err


def no_endpoint_env() -> dict[str, str]:
    """An S3 registry nobody serves: nothing is reached before the interrupt."""
    return seaweedfs.subprocess_env(
        {
            **seaweedfs.ISOLATION,
            "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
            "AWS_ACCESS_KEY_ID": "K",
            "AWS_SECRET_ACCESS_KEY": "S",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
    )


@pytest.mark.parametrize("command", [["packages", "list"], ["data", "fetch", "--dest", "{tmp}/d"]])
def test_ctrl_c_during_quilt3_import_is_an_interrupt(tmp_path, command):
    """Before: exit 70, "internal error: AttributeError: module 'quilt3' has no attribute 'telemetry'"."""
    args = [arg.format(tmp=tmp_path) for arg in command]
    proc = start(PAUSE_IN_QUILT3_IMPORT + RUN_CLI, *args, "--registry", "s3://bucket", env=no_endpoint_env())
    code, _, err = interrupt_at(proc, "importing quilt3")
    assert (code, err) == (130, "fashion: interrupted\n")
    assert list(tmp_path.iterdir()) == []


def test_quilt3_is_whole_after_an_interrupted_import():
    """A notebook that pressed Ctrl-C during the first S3 call gets a whole quilt3 on the next."""
    script = PAUSE_IN_QUILT3_IMPORT + (
        "from fashion_lib import registry\n"
        "try:\n"
        "    registry.quilt()\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted', flush=True)\n"
        "q = registry.quilt()\n"
        "print(q.telemetry.__name__, q.data_transfer.__name__, flush=True)\n"
    )
    proc = start(script, env=no_endpoint_env())
    code, out, err = interrupt_at(proc, "importing quilt3")
    assert (code, out) == (0, "interrupted\nquilt3.telemetry quilt3.data_transfer\n"), err


# The child: pause in the first call awscrt makes to read an upload's body (to sign it), saying so.
PAUSE_IN_AWSCRT_CALLBACK = """
import sys, time
import awscrt.io

read = awscrt.io.InputStream._read_into_memoryview

def pausing_read(self, view):
    if not pausing_read.paused:
        pausing_read.paused = True
        print("signing", flush=True)
        time.sleep(1)
    return read(self, view)

pausing_read.paused = False
awscrt.io.InputStream._read_into_memoryview = pausing_read

from pathlib import Path
import fashion_lib.cli.packages
from fashion_lib import registry

def push(args):  # `packages list` made to publish a file big enough for a multipart upload
    registry.push("team/big", {"big.bin": Path(sys.argv[1])}, registry=args.registry)

fashion_lib.cli.packages.cmd_packages_list = push
from fashion_lib.cli import main
sys.exit(main(["packages", "list", "--registry", sys.argv[2]]))
"""


@pytest.mark.slow  # a real SeaweedFS server
def test_ctrl_c_in_awscrt_callback_during_an_upload_is_an_interrupt(seaweed, tmp_path):
    """Before: awscrt's traceback, "Treating Python exception as error 3(AWS_ERROR_UNKNOWN)", and exit 70,
    "internal error: AwsCrtError"."""
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(9 << 20))  # above the 8 MiB part size: a multipart upload
    bucket = seaweedfs.new_bucket(seaweed, versioned=True)
    env = seaweedfs.subprocess_env(seaweedfs.client_env(seaweed, "writer"))
    code, _, err = interrupt_at(start(PAUSE_IN_AWSCRT_CALLBACK, str(big), bucket, env=env), "signing")
    assert (code, err) == (130, "fashion: interrupted\n")
