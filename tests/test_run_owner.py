"""Run folders left by a run whose process was killed (``kill -9``; papermill stopped with SIGTERM, whose kernel
then ends with ``os._exit``): no cleanup runs, so the folder keeps config.json, the history and provenance.json,
and no clf.keras. Before, those piled up in the outputs folder (a new run-TIME each time), and an output_dir
holding one was refused for ever. Now a live run marks its folder (:mod:`fashion_lib.run_owner`); a new run
removes the folders whose mark is free and that hold nothing but a run's files, and says so in one note line.
A live run's folder, one with a file of the user's, and one with no mark (older debris) are kept; so is a killed
run's for a day (its history is the evidence of how far it got; and a live run on a machine whose locks this one does
not see keeps writing in its folder), unless it is an output_dir named again whose mark names this boot."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fashion_lib.errors import DestinationError
from fashion_lib.run_owner import LOCK_FILE
from fashion_lib.runfolder import MODEL_FILE, RunFolder, write_json

ROOT = Path(__file__).resolve().parent.parent

# A child that claims a run folder as prepare_run does (or, with an output_dir, marks it as fit does), writes what
# a run being trained has written, says where, then ends as it is told: os._exit (a kernel whose papermill was
# stopped) or waits on stdin (a live run, until SIGKILLed or told to go).
CHILD = """
import os, sys
from pathlib import Path
from fashion_lib.runfolder import RunFolder, write_json
parent, how, count, blocks = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), []
for _ in range(count):
    if how.startswith("named"):
        folder = RunFolder(parent)
        blocks.append(folder.removed_if_unfinished())
        blocks[-1].__enter__()  # as fit does, never left
    else:
        folder = RunFolder.new(parent, "run-20261129-051656")
    write_json(folder.provenance, {})
    write_json(folder.config, {"epochs": 40})
    (folder.path / "history.csv").write_text("epoch,loss\\n1,0.5\\n")
    (folder.path / ".history.json.part").write_text("[")  # the history, being written
    print(folder.path, flush=True)
if how.endswith("exit"):
    os._exit(1)
sys.stdin.read()
"""


def _child(parent: Path, how: str, count: int = 1) -> tuple[subprocess.Popen, list[Path]]:
    """A child run (see CHILD) that has written its files: the process and its folders."""
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(parent), how, str(count)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    folders = [Path(child.stdout.readline().strip()) for _ in range(count)]
    assert all(folder.is_dir() for folder in folders), folders
    return child, folders


def _killed(parent: Path, how: str = "new-exit") -> Path:
    child, (folder,) = _child(parent, how)
    child.wait(timeout=60)
    return folder


def _quiet(*folders: Path, days: float = 2) -> Path:
    """As if nothing in ``folders`` changed for ``days``: the first of them."""
    then = time.time() - days * 86400
    for folder in folders:
        for path in (*folder.rglob("*"), folder):
            os.utime(path, (then, then), follow_symlinks=False)
    return folders[0]


def _notes(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines() if line.startswith("note: ")]


def test_a_new_run_removes_the_folder_a_killed_run_left(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dead = _killed(tmp_path)
    assert (dead / LOCK_FILE).is_file() and (dead / "config.json").is_file()  # what papermill stopped leaves
    RunFolder.new(tmp_path, "run-20261129-051659")
    assert (dead / "history.csv").is_file() and _notes(capsys) == []  # kept a day: the evidence (review 103)
    new = RunFolder.new(_quiet(dead) and tmp_path, "run-20261129-051700")
    assert not dead.exists()  # before: kept, with config.json, history.csv, provenance.json
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run-20261129-051659", new.path.name]
    assert _notes(capsys) == [
        f"note: removed run folder {dead}, left unfinished by a run that was killed (no {MODEL_FILE})"
    ]


def test_a_live_runs_folder_is_kept_until_it_is_killed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    child, (live,) = _child(tmp_path, "new-wait")
    try:
        _quiet(live)  # a slow epoch: its mark still keeps it
        RunFolder.new(tmp_path, "run-2")
        assert (live / "config.json").is_file() and _notes(capsys) == []  # its owner lives: kept
        with pytest.raises(DestinationError, match="a run in another process is writing it"):
            RunFolder(live).check_new()  # an output_dir naming it: refused, never taken over
    finally:
        child.kill()  # SIGKILL, mid-training
        child.wait(timeout=60)
    RunFolder.new(tmp_path, "run-3")
    assert not live.exists() and len(_notes(capsys)) == 1


def test_runs_started_together_never_remove_a_live_runs_folder(tmp_path: Path) -> None:
    """Two processes claiming folders of the same name in the same second, each sweeping the outputs folder."""
    first, second = (_child(tmp_path, "new-wait", 25) for _ in range(2))
    try:
        for _, folders in (first, second):
            assert all((folder / "config.json").is_file() for folder in folders)
        assert len({*first[1], *second[1]}) == 50
    finally:
        first[0].kill()
        first[0].wait(timeout=60)
    _quiet(*first[1], *second[1])
    try:
        RunFolder.new(tmp_path, "run-x")
        assert not any(folder.exists() for folder in first[1])
        assert all((folder / "config.json").is_file() for folder in second[1])
    finally:
        second[0].communicate("", timeout=60)  # told to go: exits normally, its folders unfinished


def test_a_killed_runs_folder_holding_anything_else_is_kept(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with_notes = _killed(tmp_path)
    (with_notes / "notes.txt").write_text("mine")
    with_folder = _killed(tmp_path)
    (with_folder / "plots").mkdir()
    older = tmp_path / "run-20250101-000000"  # debris of a run before runs marked their folders: no mark
    older.mkdir()
    write_json(older / "config.json", {})
    trained = _killed(tmp_path)
    (trained / MODEL_FILE).write_text("a model")  # killed while assessing: the model is there
    _quiet(with_notes, with_folder, older, trained)
    RunFolder.new(tmp_path, "run-4")
    for folder in (with_notes, with_folder, older, trained):
        assert (folder / "config.json").is_file(), folder
    assert _notes(capsys) == []


def test_an_output_dir_a_killed_run_left_is_used_again(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    named = tmp_path / "mine"
    _killed(named, "named-exit")
    RunFolder(named).check_new()  # before: "holds an unfinished run (...): remove it or choose another output_dir"
    assert list(named.iterdir()) == []  # the user's folder stays, empty
    assert _notes(capsys) == [
        f"note: removed the files in run folder {named}, left unfinished by a run that was killed (no {MODEL_FILE})"
    ]
    (named / "config.json").write_text("{}")  # no mark: refused as before
    with pytest.raises(DestinationError, match="holds an unfinished run"):
        RunFolder(named).check_new()


def test_an_output_dir_whose_free_mark_names_another_boot_is_kept_a_day(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Review 103: on a file system that keeps locks per machine (NFS mounted nolock), a live run on another machine
    shows a free mark; before, its files were removed from under it."""
    named = tmp_path / "mine"
    _killed(named, "named-exit")
    (named / LOCK_FILE).write_bytes(b"the boot id of another machine")
    with pytest.raises(DestinationError, match="holds an unfinished run"):
        RunFolder(named).check_new()
    assert (named / "history.csv").is_file() and _notes(capsys) == []
    RunFolder(_quiet(named)).check_new()  # a day without a change: no live run writes it
    assert list(named.iterdir()) == [] and len(_notes(capsys)) == 1


def test_a_finished_or_failed_run_leaves_no_mark(tmp_path: Path) -> None:
    folder = RunFolder(tmp_path / "run")
    with folder.removed_if_unfinished():
        assert (folder.path / LOCK_FILE).is_file()  # made with the folder, by the block that writes the run
        folder.model.write_text("a model")
    assert [p.name for p in folder.path.iterdir()] == [MODEL_FILE]
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    with pytest.raises(KeyboardInterrupt), RunFolder(mine).removed_if_unfinished():
        write_json(mine / "config.json", {})
        raise KeyboardInterrupt
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]
    claimed = RunFolder.new(tmp_path / "outputs", "run-1")
    with pytest.raises(KeyboardInterrupt), claimed.removed_if_unfinished():
        raise KeyboardInterrupt
    assert not (tmp_path / "outputs").exists()


def test_a_fifo_or_link_for_a_mark_is_never_waited_on_nor_followed(tmp_path: Path) -> None:
    fifo, link = tmp_path / "fifo", tmp_path / "link"
    for folder in (fifo, link):
        folder.mkdir()
        write_json(folder / "config.json", {})
    os.mkfifo(fifo / LOCK_FILE)
    os.symlink(tmp_path / "elsewhere", link / LOCK_FILE)
    RunFolder.new(tmp_path, "run-1")  # before the O_NONBLOCK: waits for a writer, for ever
    assert (fifo / "config.json").is_file() and (link / "config.json").is_file()


def test_a_run_killed_while_its_data_loads_leaves_a_folder_removed_later(tmp_path: Path) -> None:
    """A claimed folder, empty but for its mark (killed before training wrote anything)."""
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from fashion_lib.runfolder import RunFolder; "
            "print(RunFolder.new(sys.argv[1], 'run-1').path, flush=True); sys.stdin.read()",
            str(tmp_path),
        ],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    folder = Path(child.stdout.readline().strip())
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=60)
    assert [p.name for p in folder.iterdir()] == [LOCK_FILE]
    RunFolder.new(_quiet(folder) and tmp_path, "run-2")
    assert not folder.exists()
