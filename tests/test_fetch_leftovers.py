"""A fetch killed outright (SIGKILL, the OOM killer) leaves its staging folder (``DEST/.fashion-*.fetching``, or
``.HASH.*.fetching`` in the cache's package folder) with the files it had copied. The next fetch into that
destination removes it at once, even when it finds the version complete and stages nothing; a live fetch's
staging folder beside it is never removed. Folders an older fashion left (no lock file) go once an hour old.

Real ``fashion data fetch`` processes (and a cache fill, as ``fashion evaluate`` does it), each paused at its
first staged write, one killed with SIGKILL, the other let go on at the end.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from test_fetch_dest import DATA, reg  # noqa: F401  (the fixture: a registry with a data package)
from test_push_scratch import age

from fashion_lib import registry, scratch
from fashion_lib.data import fetch_data
from fashion_lib.registry import cache, download
from fashion_lib.settings import TEST_CSV, TRAIN_CSV

ROOT = Path(__file__).resolve().parents[1]
COMPLETE = {"clf.keras": b"published model bytes", TRAIN_CSV: b"label,pixel1\n1,0\n", TEST_CSV: b"label,pixel1\n1,0\n"}

# ``fashion ARGS`` (or, with ``--cache REGISTRY NAME``, a fetch into the cache) paused at its first write into
# a staging folder: it says so (the file MARKER), then waits for the file GO
PAUSED_AT_FIRST_WRITE = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from fashion_lib.cli import main
    from fashion_lib.registry import download

    marker, go, args = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:]
    write = download._write

    def paused(fh, block, dest):
        write(fh, block, dest)
        fh.flush()
        if not marker.exists():
            marker.write_text("writing")
            deadline = time.monotonic() + 120
            while not go.exists() and time.monotonic() < deadline:
                time.sleep(0.05)

    download._write = paused
    if args[0] == "--cache":
        from fashion_lib.data import fetch_data
        fetch_data(registry=args[1], name=args[2])
        sys.exit(0)
    sys.exit(main(args))
""")


@contextmanager
def paused_fetch(tmp_path: Path, tag: str, *args: str) -> Iterator[subprocess.Popen]:
    """A fetch process (``args`` as :data:`PAUSED_AT_FIRST_WRITE` takes them), yielded once it is writing its
    first staged file; killed on leaving if still running."""
    marker, go = tmp_path / f"{tag}.writing", tmp_path / f"{tag}.go"
    proc = subprocess.Popen(
        [sys.executable, "-c", PAUSED_AT_FIRST_WRITE, str(marker), str(go), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    proc.go = go  # type: ignore[attr-defined]
    try:
        deadline = time.monotonic() + 120
        while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.exists(), proc.stderr.read() if proc.poll() is not None else "no write in 120 s"
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
        proc.stdout.close()
        proc.stderr.close()


def killed(proc: subprocess.Popen) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


def let_go(proc: subprocess.Popen) -> None:
    """Let a paused fetch finish; it must succeed."""
    proc.go.touch()  # type: ignore[attr-defined]
    assert proc.wait(timeout=120) == 0, proc.stderr.read()


def staging(base: Path, pattern: str) -> list[Path]:
    return sorted(base.glob(pattern))


def test_a_killed_fetchs_staging_goes_when_the_next_finds_the_version_complete(
    reg: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    dest = tmp_path / "dest"
    dest.mkdir()
    command = ("data", "fetch", "--data-package", DATA, "--registry", reg, "--dest", str(dest))
    with paused_fetch(tmp_path, "dead", *command) as dead:
        killed(dead)
    [left] = staging(dest, f".fashion-*{download.STAGED}")  # with a half-written file in it
    assert any(path.is_file() for path in (left / "new").rglob("*"))
    with paused_fetch(tmp_path, "live", *command) as live:
        [held] = [path for path in staging(dest, f".fashion-*{download.STAGED}") if path != left]
        for key, data in COMPLETE.items():  # the version, complete (as a fetch finished since left it)
            (dest / key).write_bytes(data)
        fetch_data(registry=reg, name=DATA, dest=dest)  # complete: nothing staged, only swept
        assert not left.exists()
        assert held.is_dir() and (held / scratch.LIVE).is_file()  # the live fetch's: kept
        let_go(live)
    assert staging(dest, f".fashion-*{download.STAGED}") == []
    assert (dest / TRAIN_CSV).read_text() == "label,pixel1\n1,0\n"


def test_a_killed_cache_fills_staging_goes_at_the_next_use_of_the_cache(
    reg: str,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FASHION_HOME", str(tmp_path / "home"))  # for the fetches started here too
    top_hash = registry.open(reg).resolve(DATA)
    copy = cache.folder(DATA, top_hash)
    pattern = f".{copy.name}.*{download.STAGED}"
    with paused_fetch(tmp_path, "dead", "--cache", reg, DATA) as dead:
        killed(dead)
    [left] = staging(copy.parent, pattern)
    with paused_fetch(tmp_path, "live", "--cache", reg, DATA) as live:
        [held] = [path for path in staging(copy.parent, pattern) if path != left]
        fetch_data(registry=reg, name=DATA)  # the cache filled by this one
        assert not left.exists()
        assert held.is_dir()  # the live fill's: kept
        other = copy.parent / f".{'0' * len(copy.name)}.k2m4p6q8{download.STAGED}"  # another version's,
        (other / "new").mkdir(parents=True)  # its fill killed: its lock file unlocked
        (other / scratch.LIVE).touch()
        fetch_data(registry=reg, name=DATA)  # complete: only read, and the package's folder swept
        assert not other.exists() and held.is_dir()
        let_go(live)
    assert staging(copy.parent, f".*{download.STAGED}") == []
    assert cache.copies(DATA)[0].path == copy


def test_an_older_fashions_staging_goes_once_an_hour_old_even_beside_a_complete_copy(
    reg: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    """Without a lock file (made before staging folders had one): removed once nothing was written in it for
    an hour, by a fetch that stages nothing; a fresh one stays, and so does a name that is not ours."""
    dest = tmp_path / "dest"
    fetch_data(registry=reg, name=DATA, dest=dest)
    old, fresh, other = (dest / f".fashion-{n}{download.STAGED}" for n in ("ab_d1234", "x9y8z7w6", "notes"))
    beside = tmp_path / f".dest.k2m4p6q8{download.STAGED}"
    for folder in (old, fresh, other, beside):
        (folder / "new").mkdir(parents=True)
        (folder / "new" / TRAIN_CSV).write_text("half")
    for folder in (old, other, beside):
        age(folder, download.STALE_S + 3600)
    fetch_data(registry=reg, name=DATA, dest=dest)
    assert not old.exists() and not beside.exists()
    assert fresh.is_dir() and other.is_dir()
