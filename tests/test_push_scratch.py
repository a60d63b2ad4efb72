"""A push's scratch folders in the system temporary folder (``fashion-push-*``: the package README.md;
``fashion-publish-*``: a published run's copy) never stay for good: one a push killed outright left
(SIGKILL, the OOM killer) is removed by the next push; a live push's is never removed by another.

Real ``fashion model push`` and ``fashion data push`` processes, killed with SIGKILL at their first write
into the registry, then pushed again; ``TMPDIR`` is a folder of the test's own.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest
from cli_support import cli
from test_run_reuse import MODEL, tiny_setup

from fashion_lib import pipeline, registry, settings
from fashion_lib import scratch as scratch_lib
from fashion_lib.csvio import write_csv
from fashion_lib.idx import load_images, load_labels
from fashion_lib.sources import find_in

ROOT = Path(__file__).resolve().parents[1]

# ``fashion ARGS`` stopped at its first write into a local registry (the first object it stores), saying so
STOPPED_AT_FIRST_WRITE = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from fashion_lib.cli import main
    from fashion_lib.registry.local import LocalRegistry

    def stop(self, entry, source):
        Path(sys.argv[1]).write_text("storing")
        time.sleep(600)

    LocalRegistry.store_object = stop
    sys.exit(main(sys.argv[2:]))
""")


@pytest.fixture
def tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The system temporary folder, for this process and the pushes it starts."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setenv("TMPDIR", str(folder))
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def scratch(tmp: Path) -> list[str]:
    """The push's scratch folders in ``tmp``, by kind (``fashion-quality-*``: the data quality gate's report)."""
    return sorted(
        path.name.rsplit("-", 1)[0] for path in tmp.iterdir() if path.name.startswith(scratch_lib.SCRATCH_PREFIXES)
    )


def kill_at_first_write(tmp_path: Path, *args: str) -> None:
    """Run ``fashion ARGS``, SIGKILL it once it starts storing an object."""
    marker = tmp_path / "storing"
    proc = subprocess.Popen(
        [sys.executable, "-c", STOPPED_AT_FIRST_WRITE, str(marker), *args],
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT), FASHION_HOME=str(tmp_path / "home")),
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert marker.exists(), proc.stderr.read().decode() if proc.poll() is not None else "no write in 120 s"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
        proc.stderr.close()


def age(folder: Path, seconds: float) -> None:
    """Make ``folder`` and everything in it look untouched for ``seconds``."""
    then = time.time() - seconds
    for path in (folder, *folder.rglob("*")):
        os.utime(path, (then, then))


# --------------------------------------------------------------------------- the sweep


def test_a_killed_pushs_scratch_goes_at_once_a_live_ones_never(tmp: Path, tmp_path: Path) -> None:
    holder = subprocess.Popen(  # a push killed outright, holding its scratch folder
        [sys.executable, "-c", "import sys\nfrom fashion_lib import scratch\n"
         "with scratch.scratch_folder('fashion-push-') as f:\n    print(f, flush=True)\n    sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT), TMPDIR=str(tmp)),
    )  # fmt: skip
    dead = Path(holder.stdout.readline().strip())
    with scratch_lib.scratch_folder("fashion-publish-") as live:
        scratch_lib.sweep_scratch()
        assert dead.is_dir() and (dead / scratch_lib.LIVE).is_file()  # its process lives: kept
        holder.kill()
        holder.wait(timeout=30)
        age(live, scratch_lib.STALE_S + 60)  # a live push waiting an hour for the registry's lock
        scratch_lib.sweep_scratch()
        assert not dead.exists()  # no process holds it: removed, however fresh
        assert live.is_dir()  # held: kept, however old
        (live / "README.md").write_text("in use")
    assert not live.exists()  # removed on leaving
    holder.stdin.close()
    holder.stdout.close()


def test_an_older_fashions_scratch_goes_once_stale(tmp: Path) -> None:
    """Folders left before scratch folders were locked (no lock file): removed when nothing was written in
    them for the sweep age (as a killed fetch's staging folder), kept while fresh; other names are not ours."""
    made = {name: tmp / name for name in ("fashion-push-ab_d1234", "fashion-publish-x9y8z7w6", "fashion-push-notes")}
    for folder in made.values():
        folder.mkdir()
        (folder / "README.md").write_text("left")
    fresh = tmp / "fashion-push-fresh123"
    fresh.mkdir()
    age(made["fashion-push-ab_d1234"], scratch_lib.STALE_S + 60)
    age(made["fashion-publish-x9y8z7w6"], scratch_lib.STALE_S + 60)
    age(made["fashion-push-notes"], scratch_lib.STALE_S + 60)
    with scratch_lib.scratch_folder("fashion-push-"):  # the next push sweeps first
        pass
    assert sorted(path.name for path in tmp.iterdir()) == ["fashion-push-fresh123", "fashion-push-notes"]


# --------------------------------------------------------------------------- real pushes killed


@pytest.mark.slow  # a tiny run trained, and two `fashion model push` processes that load it
def test_a_model_push_killed_at_its_first_write_leaves_no_scratch_after_the_next(
    tmp: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tiny_setup(tmp_path, monkeypatch)
    run = pipeline.assess(pipeline.fit(pipeline.prepare_run(config, output_dir=tmp_path / "run"), verbose=0))
    pipeline.publish(run, registry=str(tmp_path / "first"), name=MODEL)  # metrics.json records it: a copy is pushed
    assert scratch(tmp) == []
    reg = tmp_path / "registry"
    push = ("model", "push", str(run.output_dir), "--registry", str(reg), "--model-package", MODEL)
    kill_at_first_write(tmp_path, *push)
    assert scratch(tmp) == ["fashion-publish", "fashion-push"]  # before: there for good
    assert not reg.exists() or not registry.list_versions(registry=str(reg))  # nothing half-published
    done = cli(*push, FASHION_HOME=str(tmp_path / "home"), TMPDIR=str(tmp))
    assert done.returncode == 0, done.stderr
    assert scratch(tmp) == []


RAW = find_in(settings.DEBIAN_DATASET_DIR)


@pytest.mark.skipif(RAW is None, reason="Debian package dataset-fashion-mnist is not installed")
def test_a_data_push_killed_at_its_first_write_leaves_no_scratch_after_the_next(tmp: Path, tmp_path: Path) -> None:
    images, labels = load_images(RAW["t10k-images-idx3-ubyte"]), load_labels(RAW["t10k-labels-idx1-ubyte"])
    train = write_csv(images[:2000], labels[:2000], tmp_path / "my_train.csv")
    test = write_csv(images[5000:6000], labels[5000:6000], tmp_path / "my_test.csv")
    reg = tmp_path / "registry"
    push = ("data", "push", "--name", "t/data", "--registry", str(reg), "--train", str(train), "--test", str(test))
    kill_at_first_write(tmp_path, *push)
    assert scratch(tmp) == ["fashion-push", "fashion-quality"]  # before: there for good
    assert not registry.list_versions(registry=str(reg))  # nothing half-published
    done = cli(*push, FASHION_HOME=str(tmp_path / "home"), TMPDIR=str(tmp))
    assert done.returncode == 0, done.stderr
    assert scratch(tmp) == []
