"""A corpus of hostile local registries: every one is refused, before a byte lands in --dest.

Manifests edited behind our back, truncated, with conflicting keys; forged manifests with
a consistent top hash (made by stock quilt3) whose entries point outside the registry
(/etc/passwd with its real hash, /dev/zero behind a small size, a symlink in objects/).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import hostile
import pytest

from fashion_lib import registry
from fashion_lib.errors import IntegrityError
from fashion_lib.settings import TEST_CSV, TRAIN_CSV

NAME = "fashion-mnist/data"  # published under its CSVs' names: `data fetch` fetches a data package only


@pytest.fixture
def reg(tmp_path: Path) -> str:
    return str(tmp_path / "registry")


@pytest.fixture
def published(reg: str, tmp_path: Path) -> str:
    src = tmp_path / "src"
    src.mkdir()
    (src / "train.csv").write_bytes(b"label,pixel1\n1,0\n2,255\n")
    (src / "test.csv").write_bytes(b"label,pixel1\n3,7\n")
    return registry.push(NAME, {TRAIN_CSV: src / "train.csv", TEST_CSV: src / "test.csv"}, registry=reg, message="good")


def cli(*args: str, home: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, **({"FASHION_HOME": str(home)} if home else {}))
    return subprocess.run(
        [sys.executable, "-m", "fashion_lib", *args], capture_output=True, text=True, env=env, timeout=120
    )


def refused(reg: str, tmp_path: Path, match: str, top_hash: str | None = None) -> IntegrityError:
    with pytest.raises(IntegrityError, match=match) as info:
        registry.fetch(NAME, tmp_path / "out", registry=reg, top_hash=top_hash)
    assert not (tmp_path / "out").exists() and list(tmp_path.glob(".out*")) == []
    return info.value


def test_dropping_the_last_manifest_line_is_refused_everywhere(reg, published, tmp_path):
    path = hostile.manifest_path(reg, published)
    path.write_text("".join(path.read_text().splitlines(keepends=True)[:-1]))
    error = refused(reg, tmp_path, "does not match|hashes to")
    assert f"{NAME}@{published[:7]}" in str(error)
    with pytest.raises(IntegrityError):
        registry.read_meta(NAME, registry=reg)
    [version] = registry.list_versions(registry=reg)
    assert version.damaged and version.top_hash == published
    listed = cli("packages", "list", "--registry", reg)
    assert listed.returncode == 3 and "DAMAGED" in listed.stdout and "Traceback" not in listed.stderr
    checked = cli("packages", "verify", "--registry", reg)
    assert checked.returncode == 3 and published[:7] in checked.stderr


def test_entry_pointed_at_another_registry_file_with_its_hash_is_refused(reg, published, tmp_path):
    lines = hostile.read_lines(reg, published)
    test_line = next(line for line in lines[1:] if line["logical_key"] == TEST_CSV)
    train_line = next(line for line in lines[1:] if line["logical_key"] == TRAIN_CSV)
    test_line.update(physical_keys=train_line["physical_keys"], size=train_line["size"], hash=train_line["hash"])
    hostile.manifest_path(reg, published).write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    refused(reg, tmp_path, "hashes to")  # the edit changed the top hash the manifest is named by


def test_truncated_mid_line_manifest_is_one_line_and_other_versions_list(reg, published, tmp_path):
    (tmp_path / "b.csv").write_bytes(b"other")
    second = registry.push("fashion-mnist/other", {"b.csv": tmp_path / "b.csv"}, registry=reg, message="fine")
    path = hostile.manifest_path(reg, published)
    path.write_bytes(path.read_bytes()[:-25])
    refused(reg, tmp_path, "not JSON")
    versions = {v.top_hash: v for v in registry.list_versions(registry=reg)}
    assert versions[published].damaged and not versions[second].damaged and versions[second].message == "fine"
    for args in (["packages", "list"], ["data", "fetch", "--dest", str(tmp_path / "o")], ["lineage", published]):
        done = cli(*args, "--registry", reg)
        assert done.returncode in (3, 4) and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done


def test_conflicting_keys_a_and_a_slash_b_are_refused(reg, tmp_path):
    lines = [
        {"version": "v0", "message": "conflict", "user_meta": {}},
        hostile.entry("a", "file:///x/a", b"1"),
        hostile.entry("a/b", "file:///x/b", b"2"),
    ]
    forged = hostile.forge(reg, NAME, [lines[0], lines[1]])  # quilt3 itself cannot load the conflict
    hostile.manifest_path(reg, forged).write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    refused(reg, tmp_path, "conflicting logical keys")
    done = cli("data", "fetch", "--dest", str(tmp_path / "o"), "--registry", reg)
    assert done.returncode == 3 and "conflicting" in done.stderr and "Traceback" not in done.stderr


def test_entry_outside_the_registry_with_its_real_hash_is_never_read(reg, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"root:x:0:0:root:/root:/bin/bash\n")
    data = secret.read_bytes()
    forged = hostile.forge(
        reg,
        NAME,
        [{"version": "v0", "message": "evil", "user_meta": {}}, hostile.entry("passwd", secret.as_uri(), data)],
    )
    error = refused(reg, tmp_path, "not in the registry's object store")
    assert f"{NAME}@{forged[:7]}" in str(error) and str(len(data)) not in str(error).split("@")[0]
    etc = hostile.forge(
        reg,
        "fashion-mnist/etc",
        [
            {"version": "v0", "message": "evil", "user_meta": {}},
            hostile.entry("passwd", "file:///etc/passwd", Path("/etc/passwd").read_bytes()),
        ],
    )
    with pytest.raises(IntegrityError, match="not in the registry's object store"):
        registry.fetch("fashion-mnist/etc", tmp_path / "etc", registry=reg, top_hash=etc)
    assert not (tmp_path / "etc").exists()


def test_dev_zero_behind_a_small_size_is_refused(reg, tmp_path):
    forged = hostile.forge(
        reg,
        NAME,
        [
            {"version": "v0", "message": "endless", "user_meta": {}},
            hostile.entry("zero", "file:///dev/zero", size=16, value=hostile.chunked(b"\0" * 16)),
        ],
    )
    refused(reg, tmp_path, "not in the registry's object store", forged)
    # the same entry with its object replaced by a link to the endless device: not a regular file
    name = registry.manifest.object_name("sha2-256-chunked", hostile.chunked(b"\0" * 16))
    (Path(reg) / "objects").mkdir(parents=True, exist_ok=True)
    os.symlink("/dev/zero", Path(reg) / "objects" / name)
    refused(reg, tmp_path, "not in the registry's object store", forged)


def test_object_longer_than_declared_is_read_only_to_its_size(reg, published, tmp_path):
    """Fetch (refusing before a byte is read) and verify word it alike (object_check.wrong_size), each with its
    own advice; before, fetch said "is stored as N bytes ... (REGISTRY)", verify "is N bytes ..., in REGISTRY"."""
    obj = next(p for p in (Path(reg) / "objects").iterdir() if p.read_bytes().startswith(b"label,pixel1\n3"))
    declared = obj.stat().st_size
    obj.write_bytes(obj.read_bytes() + b"x" * 1000)
    error = str(refused(reg, tmp_path, "stored as"))
    (problem,) = registry.verify(registry=reg).problems
    sentence = f"{TEST_CSV} in {NAME}@{published[:12]} is stored as {declared + 1000} bytes, not the {declared} its "
    sentence += f"manifest says, in local registry {reg}: "
    assert error.startswith(sentence) and problem.startswith(sentence), (error, problem)
    assert error.endswith("the registry is incomplete or damaged: republish the package or fetch another version")
    assert problem.endswith("was overwritten after publishing; republish the package or fetch another version")


def test_republishing_repairs_a_corrupted_object(reg, published, tmp_path):
    src = tmp_path / "src"
    obj = next(p for p in (Path(reg) / "objects").iterdir() if p.read_bytes() == (src / "train.csv").read_bytes())
    obj.write_bytes(obj.read_bytes().replace(b"255", b"254"))  # same size, other bytes
    error = refused(reg, tmp_path, "does not match its hash")
    assert "republish" in str(error)
    assert cli("packages", "verify", "--registry", reg).returncode == 3
    again = registry.push(
        NAME, {TRAIN_CSV: src / "train.csv", TEST_CSV: src / "test.csv"}, registry=reg, message="good"
    )
    assert again == published and len(registry.list_versions(registry=reg)) == 1
    assert (
        registry.fetch(NAME, tmp_path / "out", registry=reg).files[TRAIN_CSV].read_bytes()
        == (src / "train.csv").read_bytes()
    )
    done = cli("packages", "verify", "--registry", reg)
    assert done.returncode == 0 and "no problems" in done.stdout, done


def test_fetch_into_existing_dest_is_all_or_nothing(reg, published, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / TRAIN_CSV).write_text("old train")
    (out / TEST_CSV).mkdir()  # the test CSV cannot be placed: a folder is in the way
    done = cli("data", "fetch", "--dest", str(out), "--registry", reg)
    assert done.returncode == 2 and str(out) in done.stderr and "registry" not in done.stderr.split(":", 2)[2]
    assert (out / TRAIN_CSV).read_text() == "old train"  # nothing replaced
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".out")) == []
    (out / TEST_CSV).rmdir()
    got = registry.fetch(NAME, out, registry=reg)
    assert got.files[TRAIN_CSV].read_bytes().startswith(b"label,pixel1\n1")


def test_dest_that_is_a_file_names_the_destination(reg, published, tmp_path):
    (tmp_path / "file").write_text("x")
    done = cli("data", "fetch", "--dest", str(tmp_path / "file"), "--registry", reg)
    assert done.returncode == 2 and "is a file" in done.stderr and str(tmp_path / "file") in done.stderr


@pytest.mark.parametrize("where", ["a file", "/dev/null"])
def test_a_registry_that_is_a_file_is_named_as_such(tmp_path, where):
    path = tmp_path / "afile" if where == "a file" else Path(where)
    if where == "a file":
        path.write_text("")
    for command in (["packages", "list"], ["packages", "verify"], ["packages", "gc"], ["data", "fetch"]):
        extra = ["--dest", str(tmp_path / "out")] if command[0] == "data" else []
        done = cli(*command, "--registry", str(path), *extra)
        assert done.returncode == 2, (command, done.stdout)
        assert done.stderr.strip() == (
            f"fashion: error: local registry {path} is a file, not a folder; give a registry folder "
            "(--registry or FASHION_REGISTRY), or an S3 bucket as s3://BUCKET"
        )
    assert not (tmp_path / "out").exists()


def test_emptied_version_pointers_are_damage_not_a_missing_package(reg, published, tmp_path):
    for pointer in (Path(reg) / ".quilt/named_packages" / NAME).iterdir():
        pointer.write_text("")
    with pytest.raises(IntegrityError, match=r"version pointer\(s\) .* do not hold a top hash"):
        registry.fetch(NAME, tmp_path / "out", registry=reg)
    listed = cli("packages", "list", "--registry", reg)
    assert listed.returncode == IntegrityError.exit_code
    assert f"{NAME:<24}" in listed.stdout and "DAMAGED" in listed.stdout
    assert "do not hold a top hash" in listed.stderr and "is not in" not in listed.stderr


def test_a_package_folder_that_is_a_file_is_damage(reg, published):
    folder = Path(reg) / ".quilt/named_packages" / NAME
    for pointer in folder.iterdir():
        pointer.unlink()
    folder.rmdir()
    folder.write_text("")
    for command in ("list", "verify"):
        done = cli("packages", command, "--registry", reg)
        assert done.returncode == IntegrityError.exit_code, done.stdout
        assert f".quilt/named_packages/{NAME} is a file, expected a folder of version pointers" in done.stderr


def test_files_a_copy_leaves_beside_the_packages_are_no_damage(reg, published):
    """Thumbs.db or desktop.ini (a copy made on Windows) can't be a package's folder: before, list, verify and gc
    said the whole registry was damaged while fetch read it fine."""
    owner = NAME.split("/")[0]
    strays = [Path(reg) / ".quilt/named_packages/Thumbs.db", Path(reg) / f".quilt/named_packages/{owner}/desktop.ini"]
    for stray in strays:
        stray.write_text("junk")
    for command in ("list", "verify", "gc"):
        done = cli("packages", command, "--registry", reg)
        assert done.returncode == 0, done.stderr
    assert NAME in cli("packages", "list", "--registry", reg).stdout
    assert all(stray.read_text() == "junk" for stray in strays)  # left as they were


def test_a_registry_below_a_file_or_in_a_symlink_loop_is_one_line(tmp_path):
    (tmp_path / "afile").write_text("")
    (tmp_path / "loop1").symlink_to(tmp_path / "loop2")
    (tmp_path / "loop2").symlink_to(tmp_path / "loop1")
    below = cli("packages", "list", "--registry", str(tmp_path / "afile" / "registry"))
    assert below.returncode == 2 and f"cannot be a folder: {tmp_path / 'afile'} is a file" in below.stderr
    for variable, expected in (("FASHION_REGISTRY", "a folder"), ("FASHION_HOME", "the home folder")):
        env = {variable: str(tmp_path / "loop1")}
        done = subprocess.run(
            [sys.executable, "-m", "fashion_lib", "packages", "list"],
            capture_output=True,
            text=True,
            env={**os.environ, **env},
            timeout=120,
        )
        assert done.returncode == 2 and f"a loop of symbolic links; expected {expected}" in done.stderr, done.stderr
        assert done.stderr.startswith(f"fashion: error: {variable}") and done.stderr.count("\n") == 1  # the culprit


def test_a_latest_pointer_naming_no_manifest_is_damage_everywhere(reg, published, tmp_path):
    """Not "no such version" in one command and "damaged" in another: exit 3 in all of them."""
    ghost = "0123456789abcdef" * 4
    (Path(reg) / ".quilt/named_packages" / NAME / "latest").write_text(ghost)
    with pytest.raises(IntegrityError, match="manifest is missing"):
        registry.fetch(NAME, tmp_path / "out", registry=reg)
    with pytest.raises(IntegrityError, match="its latest pointer names it, but its manifest is missing"):
        registry.open(reg).resolve(NAME, ghost)
    for command in ("list", "verify", "gc"):
        done = cli("packages", command, "--registry", reg)
        assert done.returncode == IntegrityError.exit_code, (command, done.stdout, done.stderr)
        assert ghost[:12] in done.stdout + done.stderr
