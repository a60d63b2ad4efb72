"""Writers on one local registry, as separate processes: nobody's version is lost, a
``kill -9`` in the middle of a push blocks nobody and leaves nothing behind for good."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from fashion_lib import registry
from fashion_lib.errors import RegistryError

NAME = "fashion-mnist/data"
WRITERS, PUSHES = 4, 4

PUSHER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from fashion_lib import registry
    reg, folder, writer, pushes = sys.argv[1], Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    for i in range(pushes):
        source = folder / f"w{writer}-{i}.csv"
        source.write_text(f"label,pixel1\\n{writer},{i}\\n")
        print(registry.push("fashion-mnist/data", {"train.csv": source}, registry=reg, message=f"{writer}/{i}"),
              flush=True)
""")

READER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from fashion_lib import registry
    from fashion_lib.errors import PackageNotFound
    reg, stop = sys.argv[1], Path(sys.argv[2])
    reads = 0
    while not stop.exists():
        try:
            registry.resolve_top_hash("fashion-mnist/data", None, registry=reg)
            reads += 1
        except PackageNotFound:
            pass  # before the first push
    print(reads)
""")

STALLER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from fashion_lib import hashing, registry
    reg, source, marker = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    update, blocks = hashing.StreamHasher.update, []

    def stall_after_first_block(self, data):  # a real copy into the registry, stopped by the kill -9
        update(self, data)
        blocks.append(len(data))
        if len(blocks) == 2:  # the first block is in the temporary object by now
            marker.write_text("copying")
            time.sleep(600)

    hashing.StreamHasher.update = stall_after_first_block
    registry.push("fashion-mnist/data", {"train.csv": source}, registry=reg, message="killed")
""")


def env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))


@pytest.mark.slow  # several writer processes
def test_parallel_pushes_from_processes_keep_every_printed_version(tmp_path):
    reg = str(tmp_path / "registry")
    stop = tmp_path / "stop"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, reg, str(stop)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env(),
    )
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", PUSHER, reg, str(tmp_path), str(w), str(PUSHES)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env(),
        )
        for w in range(WRITERS)
    ]
    printed = []
    for proc in writers:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        printed += out.split()
    stop.touch()
    reader_out, reader_err = reader.communicate(timeout=120)
    assert reader.returncode == 0 and int(reader_out) > 0, reader_err  # the pointer was never seen half-written
    assert len(printed) == WRITERS * PUSHES and len(set(printed)) == WRITERS * PUSHES
    listed = {v.top_hash for v in registry.list_versions(registry=reg, name=NAME)}
    assert listed == set(printed)
    for top_hash in printed:
        got = registry.fetch(NAME, tmp_path / "out" / top_hash[:12], registry=reg, top_hash=top_hash[:12])
        assert got.top_hash == top_hash
    assert list((Path(reg) / ".fashion-tmp").iterdir()) == []
    assert registry.verify(registry=reg).problems == []


@pytest.mark.slow  # several writer processes
def test_kill_9_mid_push_blocks_nobody_and_the_next_writer_cleans_up(tmp_path):
    reg = str(tmp_path / "registry")
    (tmp_path / "first.csv").write_text("label,pixel1\n1,1\n")
    first = registry.push(NAME, {"train.csv": tmp_path / "first.csv"}, registry=reg, message="first")
    (tmp_path / "big.csv").write_bytes(b"label,pixel1\n" + b"3,3\n" * 1_000_000)
    marker = tmp_path / "marker"
    proc = subprocess.Popen(
        [sys.executable, "-c", STALLER, reg, str(tmp_path / "big.csv"), str(marker)], env=env(), stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 120
    while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert marker.exists(), proc.stderr.read().decode() if proc.poll() is not None else "no progress"
    os.kill(proc.pid, signal.SIGKILL)  # while it holds the lock, half-way through a copy
    proc.wait(timeout=30)
    leftovers = list((Path(reg) / "objects").glob(".*"))  # an object is staged beside its final name
    assert len(leftovers) == 1 and leftovers[0].stat().st_size > 0
    assert registry.resolve_top_hash(NAME, None, registry=reg) == first  # readable, nothing half-published
    assert [v.top_hash for v in registry.list_versions(registry=reg)] == [first]

    (tmp_path / "second.csv").write_text("label,pixel1\n2,2\n")
    second = registry.push(NAME, {"train.csv": tmp_path / "second.csv"}, registry=reg, message="second")
    assert list((Path(reg) / "objects").glob(".*")) == []  # the next writer removed the dead one's object
    assert list((Path(reg) / ".fashion-tmp").iterdir()) == []
    assert {v.top_hash for v in registry.list_versions(registry=reg)} == {first, second}
    assert registry.verify(registry=reg).problems == []


def test_a_folder_removed_while_versions_are_listed_is_not_an_error(tmp_path, monkeypatch):
    """A writer probes the pointers folder it will write in (an empty folder made and removed at once) while
    readers list it without the lock; one gone by the time the reader enters it held nothing (CI, stop 26)."""
    reg = tmp_path / "registry"
    (tmp_path / "a.csv").write_text("label,pixel1\n1,1\n")
    top_hash = registry.push(NAME, {"a.csv": tmp_path / "a.csv"}, registry=str(reg))
    pointers = reg / ".quilt" / "named_packages" / NAME
    probe = pointers / ".fashion-probe-abcdefgh"
    probe.mkdir()
    real_scandir = os.scandir

    def listed_then_removed(path):  # the writer removes its probe between the reader's listing and its entering
        with real_scandir(path) as found:
            entries = list(found)
        if Path(path) == pointers and probe.exists():
            assert probe.name in [entry.name for entry in entries]
            probe.rmdir()
        return contextlib.nullcontext(iter(entries))

    monkeypatch.setattr(os, "scandir", listed_then_removed)
    assert registry.resolve_top_hash(NAME, None, registry=str(reg)) == top_hash
    assert not probe.exists()


def test_a_probe_folder_a_killed_writer_left_is_removed_by_the_next(tmp_path):
    reg = tmp_path / "registry"
    (tmp_path / "a.csv").write_text("label,pixel1\n1,1\n")
    registry.push(NAME, {"a.csv": tmp_path / "a.csv"}, registry=str(reg))
    (reg / ".fashion-tmp" / ".fashion-probe-abcdefgh").mkdir()  # killed between making and removing it
    (tmp_path / "a.csv").write_text("label,pixel1\n2,2\n")
    second = registry.push(NAME, {"a.csv": tmp_path / "a.csv"}, registry=str(reg))
    assert registry.resolve_top_hash(NAME, None, registry=str(reg)) == second
    assert list((reg / ".fashion-tmp").iterdir()) == []


def test_verify_repair_removes_leftovers_and_checks_one_version(tmp_path):
    reg = tmp_path / "registry"
    (tmp_path / "a.csv").write_text("label,pixel1\n1,1\n")
    first = registry.push(NAME, {"a.csv": tmp_path / "a.csv"}, registry=str(reg))
    (tmp_path / "a.csv").write_text("label,pixel1\n2,2\n")
    registry.push(NAME, {"a.csv": tmp_path / "a.csv"}, registry=str(reg))
    (reg / ".fashion-tmp" / "abc.123").write_bytes(b"half an object")
    (reg / "objects" / ".deadbeef.xyz").write_bytes(b"left by an older fashion")
    run = [sys.executable, "-m", "fashion_lib", "packages", "verify", "--registry", str(reg)]
    one = subprocess.run([*run, "--name", NAME, "--top-hash", first[:8]], capture_output=True, text=True, env=env())
    assert one.returncode == 0 and "1 version(s), 1 object(s)" in one.stdout, one
    repaired = subprocess.run([*run, "--repair"], capture_output=True, text=True, env=env())
    assert repaired.returncode == 0 and repaired.stdout.count("removed leftover temporary file") == 2, repaired
    assert list((reg / ".fashion-tmp").iterdir()) == [] and not (reg / "objects" / ".deadbeef.xyz").exists()
    assert "2 version(s), 2 object(s)" in repaired.stdout


@pytest.fixture
def other_disk(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Path]:
    """A folder on another filesystem than ``tmp_path``: in /dev/shm where that is one, else a small tmpfs."""
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK) and shm.stat().st_dev != tmp_path.stat().st_dev:
        folder = Path(tempfile.mkdtemp(prefix="fashion-test-", dir=shm))
        yield folder
        shutil.rmtree(folder, ignore_errors=True)
    else:
        yield request.getfixturevalue("small_disk")("other-disk", 1 << 20)


def test_objects_linked_to_another_disk_are_pushed_and_fetched(tmp_path: Path, other_disk: Path) -> None:
    """Before: "local registry ...: Invalid cross-device link (.../.fashion-tmp/8b9f...)", exit 2: objects were
    staged in .fashion-tmp and renamed into objects/. Now they are staged beside their final name."""
    reg = tmp_path / "registry"
    reg.mkdir()
    (reg / "objects").symlink_to(other_disk)
    (tmp_path / "a.csv").write_text("label,pixel1\n1,1\n")
    top_hash = registry.push(NAME, {"a.csv": tmp_path / "a.csv"}, registry=str(reg))
    assert [p.name for p in other_disk.iterdir() if p.name.startswith(".")] == []  # no staged copy left
    assert len(list(other_disk.iterdir())) == 1 and list((reg / ".fashion-tmp").iterdir()) == []
    assert registry.verify(registry=str(reg)).problems == []
    fetched = registry.fetch(NAME, tmp_path / "out", top_hash=top_hash, registry=str(reg))
    assert fetched.files["a.csv"].read_text() == "label,pixel1\n1,1\n"


def test_metadata_on_another_disk_than_the_staging_folder_is_one_line_naming_it(
    tmp_path: Path, other_disk: Path
) -> None:
    reg = tmp_path / "registry"
    (reg / ".quilt").mkdir(parents=True)
    (reg / ".quilt" / "packages").symlink_to(other_disk)
    (tmp_path / "a.csv").write_text("label,pixel1\n1,1\n")
    with pytest.raises(RegistryError) as caught:
        registry.push(NAME, {"a.csv": tmp_path / "a.csv"}, registry=str(reg))
    line = str(caught.value)
    assert "\n" not in line and str(reg) in line
    assert "its .quilt/packages folder is on another filesystem than its .fashion-tmp folder" in line
    assert list(other_disk.iterdir()) == [] and list((reg / "objects").iterdir()) == []  # nothing left behind
