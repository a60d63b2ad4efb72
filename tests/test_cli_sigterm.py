"""SIGTERM (``docker stop``, ``timeout``, systemd) takes Ctrl-C's path in the ``fashion`` command: the
cleanup runs, one line ``fashion: terminated``, exit 143 (128 + SIGTERM); also where SIGINT is ignored
(``nohup``, a background job). Before, the process died by the signal with no line: a push killed after
its first object left an object no manifest names, one killed mid-copy a partial ``objects/.*`` file.

Real SIGTERMs, sent by this process to a real ``fashion`` process working on a real local registry. To
land them mid-write every time, not by luck, the child announces on stdout when it gets there and waits;
nothing else in it is changed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import cli
from csv_support import fashion_csvs
from test_run_reuse import MODEL, SIGTERM_AFTER_FIT, tiny_setup

from fashion_lib import pipeline, registry
from fashion_lib.registry.base import OBJECTS, POINTERS

ROOT = Path(__file__).resolve().parents[1]
NAME = "t/data"

# The child pauses as a push starts storing its second object: the first is in place, named by no manifest yet.
PAUSE_AFTER_FIRST_OBJECT = """
import time
from fashion_lib.registry.local import LocalRegistry
store = LocalRegistry.store_object
def pausing(self, entry, source):
    pausing.calls += 1
    if pausing.calls == 2:
        print("paused", flush=True)
        time.sleep(60)
    return store(self, entry, source)
pausing.calls = 0
LocalRegistry.store_object = pausing
"""

# ... or while it copies an object into its staging file (``objects/.HASH.*``).
PAUSE_IN_AN_OBJECT = """
import builtins, os, time
import fashion_lib.registry.local as local
def pausing(path, mode="r", *args, **kwargs):
    opened = builtins.open(path, mode, *args, **kwargs)
    staged = "w" in mode and os.path.basename(path).startswith(".") and os.path.basename(os.path.dirname(path)) == "objects"
    if staged and not pausing.done:
        pausing.done = True
        opened.write(b"partial")
        opened.flush()
        print("paused", flush=True)
        time.sleep(60)
    return opened
pausing.done = False
local.open = pausing
"""

# ... or while a fetch writes the first block of a file into its staging folder.
PAUSE_IN_A_FETCH = """
import time
import fashion_lib.registry.download as download
write = download._write
def pausing(fh, block, dest):
    write(fh, block, dest)
    fh.flush()
    if not pausing.done:
        pausing.done = True
        print("paused", flush=True)
        time.sleep(60)
pausing.done = False
download._write = pausing
"""

# ... or, not pausing: SIGTERM to itself just after the push wrote its dated version pointer.
TERM_AFTER_THE_VERSION_POINTER = f"""
import os, signal
from fashion_lib.registry.local import LocalRegistry
original = LocalRegistry.write
def write(self, key, data):
    original(self, key, data)
    if key.startswith("{POINTERS}/{NAME}/") and key.rsplit("/", 1)[1].isdigit():
        os.kill(os.getpid(), signal.SIGTERM)
LocalRegistry.write = write
"""


def start(code: str, args: list[str], home: Path, *, sigint_ignored: bool = False) -> subprocess.Popen:
    """``fashion ARGS`` in a new process, ``code`` run first; SIGINT as a terminal leaves it, or ignored."""
    script = f"{code}\nimport sys\nfrom fashion_lib.cli.main import main\nsys.exit(main({args!r}))"
    sigint = signal.SIG_IGN if sigint_ignored else signal.SIG_DFL
    return subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**_env(home), "PYTHONPATH": str(ROOT)},
        preexec_fn=lambda: signal.signal(signal.SIGINT, sigint),
    )


def _env(home: Path) -> dict[str, str]:
    env = {**os.environ, "FASHION_HOME": str(home)}
    env.pop("FASHION_REGISTRY", None)
    return env


def terminate_when_paused(proc: subprocess.Popen) -> tuple[int, str]:
    """SIGTERM once the child says ``paused``; its exit code and stderr."""
    try:
        said = []
        for line in proc.stdout:
            said.append(line)
            if line == "paused\n":
                break
        assert said and said[-1] == "paused\n", (said, proc.stderr.read() if proc.poll() is not None else "")
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, err


def assert_registry_clean(reg: Path) -> None:
    """``fashion packages verify`` finds nothing, and no object staging file or writer's temporary is left."""
    done = cli("packages", "verify", "--registry", str(reg), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["ok"] and report["problems"] == [] and report["unnamed_manifests"] == [], report
    assert report["unnamed_objects"] == 0 and report["stale_latest"] == [], report
    assert [p.name for p in (reg / OBJECTS).glob(".*")] == []
    assert [p.name for p in (reg / ".fashion-tmp").glob("*")] == []


def terminated(err: str) -> str:
    """The one line the command said about how it ended (its progress lines aside); never a traceback."""
    assert "Traceback" not in err, err
    said = [line for line in err.splitlines() if line.startswith("fashion:")]
    assert len(said) == 1 and err.endswith(said[0] + "\n"), err
    return said[0]


def push_args(reg: Path, csvs: dict[str, Path]) -> list[str]:
    return ["data", "push", "--name", NAME, "--registry", str(reg), "--accept", "small test data"] + [
        "--train",
        str(csvs["train"]),
        "--test",
        str(csvs["test"]),
    ]


@pytest.mark.parametrize("sigint_ignored", [False, True], ids=["sigint-default", "sigint-ignored"])
@pytest.mark.parametrize("pause", [PAUSE_AFTER_FIRST_OBJECT, PAUSE_IN_AN_OBJECT], ids=["after-object", "mid-object"])
def test_sigterm_during_a_data_push(tmp_path, pause, sigint_ignored):
    """Before: killed by SIGTERM (-15), no line; an unnamed object, or a partial staging file, left."""
    reg, csvs = tmp_path / "registry", fashion_csvs(tmp_path / "csvs", 1)
    assert cli(*push_args(reg, fashion_csvs(tmp_path / "old", 2))).returncode == 0  # a version to keep
    before = registry.open(str(reg)).versions(NAME)
    code, err = terminate_when_paused(
        start(pause, push_args(reg, csvs), tmp_path / "home", sigint_ignored=sigint_ignored)
    )
    assert code == 143 and terminated(err) == "fashion: terminated", err
    assert registry.open(str(reg)).versions(NAME) == before
    assert_registry_clean(reg)
    again = cli(*push_args(reg, csvs))
    assert again.returncode == 0, again.stderr
    assert_registry_clean(reg)


@pytest.mark.parametrize("sigint_ignored", [False, True], ids=["sigint-default", "sigint-ignored"])
def test_sigterm_while_the_pointers_are_written_waits_for_latest(tmp_path, sigint_ignored):
    """As Ctrl-C: the push finishes its two pointers, then says which version it published."""
    reg = tmp_path / "registry"
    assert cli(*push_args(reg, fashion_csvs(tmp_path / "one", 1))).returncode == 0
    proc = start(
        TERM_AFTER_THE_VERSION_POINTER,
        push_args(reg, fashion_csvs(tmp_path / "two", 2)),
        tmp_path / "home",
        sigint_ignored=sigint_ignored,
    )
    _, err = proc.communicate(timeout=120)
    newest = registry.open(str(reg)).versions(NAME)[0][1]
    assert (proc.returncode, terminated(err)) == (
        143,
        f"fashion: terminated: {NAME}@{newest} was published before the push stopped (it is the latest version)",
    ), err
    assert registry.open(str(reg)).pointers(NAME)["latest"] == newest
    assert_registry_clean(reg)


def test_sigterm_during_a_fetch_leaves_nothing(tmp_path):
    reg, dest = tmp_path / "registry", tmp_path / "fetched"
    assert cli(*push_args(reg, fashion_csvs(tmp_path / "csvs", 1))).returncode == 0
    args = ["data", "fetch", "--data-package", NAME, "--registry", str(reg), "--dest", str(dest)]
    code, err = terminate_when_paused(start(PAUSE_IN_A_FETCH, args, tmp_path / "home"))
    assert code == 143 and terminated(err) == "fashion: terminated", err
    assert not dest.exists() and [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    assert_registry_clean(reg)
    again = cli(*args)
    assert again.returncode == 0, again.stderr
    assert (dest / "fashion-mnist_train.csv").read_bytes() == (tmp_path / "csvs" / "train.csv").read_bytes()


# --------------------------------------------------------------- a model push, and SIGTERM during training


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A finished tiny run's folder (fitted and evaluated, not published)."""
    root = tmp_path_factory.mktemp("genuine")
    with pytest.MonkeyPatch.context() as patch:
        config = tiny_setup(root, patch)
        run = pipeline.assess(pipeline.fit(pipeline.prepare_run(config, output_dir=root / "run"), verbose=0))
        yield run.output_dir


@pytest.mark.slow  # a tiny training run, then four commands that load TensorFlow
def test_sigterm_during_a_model_push(run_folder, tmp_path):
    """Before: killed by SIGTERM (-15), no line, and the first object stored named by no manifest."""
    reg = tmp_path / "registry"
    args = ["model", "push", str(run_folder), "--registry", str(reg), "--model-package", MODEL]
    code, err = terminate_when_paused(start(PAUSE_AFTER_FIRST_OBJECT, args, tmp_path / "home"))
    assert code == 143 and terminated(err) == "fashion: terminated", err
    assert registry.open(str(reg)).versions(MODEL) == []
    assert_registry_clean(reg)
    again = cli(*args, FASHION_HOME=str(tmp_path / "home"))
    assert again.returncode == 0, again.stderr
    assert_registry_clean(reg)


# A command that fits a tiny run (as `fashion train` does), SIGTERM to itself once the model is trained.
TERM_DURING_TRAINING = """
import os, signal, sys
from pathlib import Path
sys.path.insert(0, {tests!r})
import pytest
import fashion_lib.cli.packages
import fashion_lib.train as train
from fashion_lib import pipeline
from test_run_reuse import tiny_setup

{sigterm_after_fit}
def fit(args):
    with pytest.MonkeyPatch.context() as patched:
        config = tiny_setup(Path({root!r}), patched)
        pipeline.fit(pipeline.prepare_run(config, output_dir={run!r}), verbose=0)

fashion_lib.cli.packages.cmd_packages_list = fit
from fashion_lib.cli.main import main
code = main(["packages", "list", "--registry", {root!r}])
print(signal.getsignal(signal.SIGTERM) == signal.SIG_DFL, flush=True)  # the CLI's handler is gone
sys.exit(code)
"""


def test_sigterm_during_training_in_the_cli_removes_the_run(tmp_path):
    """The run folder's own SIGTERM handler (training in a notebook) is not installed under the CLI's: SIGTERM
    is the CLI's KeyboardInterrupt there, which removes the run's files as Ctrl-C does, then 143."""
    script = TERM_DURING_TRAINING.format(
        tests=str(Path(__file__).parent),
        root=str(tmp_path),
        run=str(tmp_path / "run"),
        sigterm_after_fit=SIGTERM_AFTER_FIT,
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert (done.returncode, done.stdout) == (143, "True\n"), done.stderr[-2000:]
    assert terminated(done.stderr) == "fashion: terminated"
    assert not (tmp_path / "run").exists()


@pytest.mark.slow  # a real SeaweedFS server
@pytest.mark.parametrize("sigint_ignored", [False, True], ids=["sigint-default", "sigint-ignored"])
def test_sigterm_in_awscrt_callback_during_an_upload(seaweed, tmp_path, sigint_ignored):
    """As Ctrl-C there: SIGTERM is asked again once awscrt's callback is done, so no awscrt traceback and
    no internal error; with SIGINT ignored, it is SIGTERM that is sent again."""
    import seaweedfs
    from test_cli_interrupts import PAUSE_IN_AWSCRT_CALLBACK

    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(9 << 20))  # above the 8 MiB part size: a multipart upload
    bucket = seaweedfs.new_bucket(seaweed, versioned=True)
    sigint = signal.SIG_IGN if sigint_ignored else signal.SIG_DFL
    proc = subprocess.Popen(
        [sys.executable, "-c", PAUSE_IN_AWSCRT_CALLBACK.replace('print("signing"', 'print("paused"'), str(big), bucket],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=seaweedfs.subprocess_env(seaweedfs.client_env(seaweed, "writer")),
        preexec_fn=lambda: signal.signal(signal.SIGINT, sigint),
    )
    code, err = terminate_when_paused(proc)
    assert (code, err) == (143, "fashion: terminated\n")
