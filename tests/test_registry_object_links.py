"""A local registry whose objects are symbolic links (copied with ``cp -rs``, or by a dedup tool): fashion never
follows them, and says so: verify and fetch name ``objects/<hex>`` as a link (one line each, exit 3) and what to
do, and ``gc`` names the links in a note instead of passing over them in silence."""

from __future__ import annotations

import shutil
from pathlib import Path

from cli_support import cli, one_line

from fashion_lib import registry
from fashion_lib.registry import gc
from fashion_lib.registry.base import OBJECTS

MODEL = "fashion-mnist/model"


def _linked_copy(tmp_path: Path) -> tuple[Path, list[Path]]:
    """A registry with one version and a copy of it whose objects link to the original's (as ``cp -rs`` makes)."""
    reg, copy = tmp_path / "registry", tmp_path / "copy"
    (tmp_path / "clf.keras").write_bytes(b"published model bytes")
    (tmp_path / "metrics.json").write_text('{"test_accuracy": 0.9}')
    files = {"clf.keras": tmp_path / "clf.keras", "metrics.json": tmp_path / "metrics.json"}
    registry.push(MODEL, files, registry=str(reg))
    shutil.copytree(reg, copy)
    objects = sorted((copy / OBJECTS).iterdir())
    for obj in objects:
        obj.unlink()
        obj.symlink_to(reg / OBJECTS / obj.name)
    return copy, objects


def test_verify_and_fetch_name_an_object_that_is_a_symbolic_link(tmp_path: Path) -> None:
    """Before: each object "has no object" and its manifest "names file:///..., not this registry's store"."""
    copy, objects = _linked_copy(tmp_path)
    problems = registry.verify(registry=str(copy)).problems
    assert len(problems) == 2, problems
    for problem in problems:
        assert "is stored as a symbolic link, objects/" in problem and "not 'cp -rs'" in problem, problem
        assert "has no object" not in problem and "file://" not in problem, problem
    assert {f"{OBJECTS}/{o.name} (to {tmp_path / 'registry' / OBJECTS / o.name})" for o in objects} == {
        p.split("symbolic link, ")[1].split("),")[0] + ")" for p in problems
    }
    done = cli("model", "fetch", "--registry", str(copy), "--dest", str(tmp_path / "out"))
    line = one_line(done)
    assert done.returncode == 3 and "is stored as a symbolic link, objects/" in line and "'cp -r'" in line, line
    assert not (tmp_path / "out").exists()


def test_gc_names_objects_that_are_symbolic_links(tmp_path: Path) -> None:
    """Before: "0 object(s) named by a manifest, 0 named by none", not a word about the links."""
    copy, objects = _linked_copy(tmp_path)
    notes: list[str] = []
    found = gc.collect(registry.open(str(copy)), grace_hours=0, delete=True, log=notes.append)
    assert found.links == {o.name: str(tmp_path / "registry" / OBJECTS / o.name) for o in objects}
    assert found.named == 0 and not found.unnamed and all(o.is_symlink() for o in objects)  # never removed
    assert len(notes) == 1 and "holds 2 object(s) as symbolic links" in notes[0] and "not 'cp -rs'" in notes[0]
    done = cli("packages", "gc", "--registry", str(copy))
    assert done.returncode == 0 and one_line(done).startswith(f"note: local registry {copy} holds 2 object(s)"), done
