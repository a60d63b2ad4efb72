"""Registries copied, or pointed at, the wrong way: each is one clear line, and nothing is lost.

``cp -r REG/* COPY/`` leaves the hidden ``.quilt`` folder (every manifest and version pointer)
behind but copies ``objects/``; a push into such a copy would become its only manifest, and
``packages gc --delete`` would then remove every file of the lost versions.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from pathlib import Path

import numpy as np
import pytest
from cli_support import cli, one_line
from registry_copy_support import NAME, WAY_OUT, published, star_copy

from fashion_lib import data, hashing, registry
from fashion_lib.errors import IntegrityError, RegistryError
from fashion_lib.registry import manifest


@pytest.fixture
def reg(tmp_path: Path, sources: dict[str, Path]) -> Path:
    """A registry holding one version."""
    return published(tmp_path / "registry", sources)


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_a_copy_that_lost_its_quilt_folder_is_damage_to_verify_gc_and_push(reg, sources, tmp_path):
    copy = star_copy(reg, tmp_path / "copy")
    before = tree(copy)

    lines = {}
    for command in (["verify"], ["gc", "--delete", "--grace", "0"]):
        done = cli("packages", *command, "--registry", str(copy))
        assert done.returncode == IntegrityError.exit_code, (command, done.stdout, done.stderr)
        lines[command[0]] = one_line(done)
    as_json = cli("packages", "verify", "--json", "--registry", str(copy))
    assert as_json.returncode == IntegrityError.exit_code
    assert json.loads(as_json.stdout)["problems"] == [lines["verify"].removeprefix("fashion: damaged: ")]
    with pytest.raises(IntegrityError) as pushed:
        registry.push(NAME, sources, registry=str(copy))
    lines["push"] = str(pushed.value)

    assert "nothing was published" in lines["push"] and "nothing was removed" in lines["gc"]
    for line in lines.values():
        assert f"{copy.name} holds 2 object(s) but no manifest at all" in line, line
        assert WAY_OUT in line and "remove its objects folder" in line, line
        assert line.split(": restore", 1)[1] == lines["push"].split(": restore", 1)[1]  # one answer
    assert {p.relative_to(copy).parts[0] for p in copy.iterdir()} <= {"objects", ".fashion.lock"}
    assert {k: v for k, v in tree(copy).items() if k != ".fashion.lock"} == before  # nothing published

    subprocess.run(["cp", "-r", f"{reg}/.", f"{copy}/"], check=True)  # the way out: .quilt restored
    registry.push(NAME, sources, registry=str(copy), message="in the copy")
    assert len(registry.list_versions(registry=str(copy))) == 2
    done = cli("packages", "verify", "--registry", str(copy))
    assert done.returncode == 0 and "no problems" in done.stdout, done.stderr


def test_a_first_push_killed_after_storing_objects_has_a_way_out(reg, sources, tmp_path):
    """What a kill -9 of the very first push leaves: objects, no .quilt; the line says what to do."""
    killed = tmp_path / "killed"
    killed.mkdir()
    shutil.copytree(reg / "objects", killed / "objects")
    with pytest.raises(IntegrityError, match="never held a version .* remove its objects folder"):
        registry.push(NAME, sources, registry=str(killed))
    shutil.rmtree(killed / "objects")  # the way out the line gives
    registry.push(NAME, sources, registry=str(killed))
    assert cli("packages", "verify", "--registry", str(killed)).returncode == 0


@pytest.mark.parametrize("inside", [".quilt", "objects", ".quilt/named_packages/fashion-mnist"])
def test_the_inside_of_a_registry_is_refused_naming_the_registry(reg, sources, inside):
    """Pointed at by mistake, it read as an empty registry ("0 version(s)", exit 0)."""
    before = tree(reg)
    for command in (["list"], ["verify"], ["gc"]):
        done = cli("packages", *command, "--registry", str(reg / inside))
        assert done.returncode == 2, (command, done.stdout)
        line = one_line(done)
        assert f"{inside} is inside a registry" in line and f"give the registry folder itself, {reg}," in line
    by_env = cli("packages", "list", FASHION_REGISTRY=str(reg / inside))
    assert by_env.returncode == 2 and "FASHION_REGISTRY" in one_line(by_env)
    with pytest.raises(RegistryError, match="is inside a registry"):
        registry.push(NAME, sources, registry=str(reg / inside))
    assert tree(reg) == before


# --- republishing repairs: `fashion data push` of data that is already a version --------------


@pytest.fixture
def small_csvs(tmp_path: Path) -> dict[str, Path]:
    """Two small CSVs in the Fashion-MNIST format (every class), published with --accept."""
    rng = np.random.default_rng(7)
    header = "label," + ",".join(f"pixel{i}" for i in range(1, 785))
    out = {}
    for split, rows in (("train", 40), ("test", 20)):
        labels = np.arange(rows) % 10
        pixels = rng.integers(0, 256, size=(rows, 784))
        lines = [header] + [f"{label}," + ",".join(map(str, row)) for label, row in zip(labels, pixels, strict=True)]
        out[split] = tmp_path / f"small_{split}.csv"
        out[split].write_text("\n".join(lines) + "\n")
    return out


def data_push(reg: Path, csvs: dict[str, Path]) -> tuple[str, str]:
    """What ``fashion data push --accept`` does (in this process: quilt3 is imported once): (top hash, its log)."""
    said: list[str] = []
    done = data.publish_csvs(csvs, registry=str(reg), accept="small test data", log=said.append)
    return done.top_hash, "\n".join(said)


def object_path(reg: Path, source: Path) -> Path:
    return reg / "objects" / manifest.object_name(hashing.SHA256_CHUNKED, hashing.sha256_chunked(source))


def test_pushing_data_that_is_a_damaged_version_writes_its_files_again(small_csvs, tmp_path):
    reg = tmp_path / "data-registry"
    first, _ = data_push(reg, small_csvs)
    test_object, train_object = (object_path(reg, small_csvs[s]) for s in ("test", "train"))
    with open(test_object, "r+b") as fh:
        fh.truncate(1000)  # damaged: `fashion evaluate` says "republish the package"
    with open(train_object, "r+b") as fh:
        fh.seek(100)
        fh.write(b"9" if fh.read(1) != b"9" else b"8")  # same size, other bytes: hashes, not sizes
    assert cli("packages", "verify", "--registry", str(reg)).returncode == IntegrityError.exit_code

    again, said = data_push(reg, small_csvs)
    assert again == first  # the same version, whole again
    assert "it was damaged in the registry: its files were written again" in said
    assert "fashion-mnist_test.csv" in said and "fashion-mnist_train.csv" in said
    verified = cli("packages", "verify", "--registry", str(reg))
    assert verified.returncode == 0 and "1 version(s)" in verified.stdout and "no problems" in verified.stdout

    before = tree(reg)
    third, said = data_push(reg, small_csvs)  # intact: nothing written
    assert third == first and "nothing to publish" in said and "damaged" not in said
    assert tree(reg) == before


def test_a_damaged_file_the_csvs_cannot_restore_is_published_again(small_csvs, tmp_path):
    reg = tmp_path / "data-registry"
    first, _ = data_push(reg, small_csvs)
    [quality] = [e for e in registry.open(str(reg)).manifest(NAME, first).entries if e.key == "quality.json"]
    (reg / "objects" / quality.object_name).write_text("{}")
    again, said = data_push(reg, small_csvs)
    assert "quality.json in" in said and "checking it and publishing it again" in said
    assert again == first  # the same report (the same reference): the version is whole again
    verified = cli("packages", "verify", "--registry", str(reg))
    assert verified.returncode == 0 and "1 version(s)" in verified.stdout and "no problems" in verified.stdout


@pytest.mark.slow  # a real SeaweedFS server
def test_on_s3_an_intact_version_is_told_by_etags_and_only_a_damaged_object_goes_up(seaweed, sources, tmp_path):
    import seaweedfs  # tests/ is on sys.path

    from fashion_lib.registry.publish import repair

    with seaweedfs.use_identity(seaweed, "writer"):
        bucket = seaweed.create_bucket(f"repair-{uuid.uuid4().hex[:12]}", versioned=False)
        top_hash = registry.push(NAME, sources, registry=bucket)
        reg = registry.open(bucket)
        with seaweedfs.count_requests() as requests:
            assert repair(reg, NAME, top_hash, list(sources.values())) == []
        assert requests.uploads() == (0, 0)
        assert [r for r in requests.seen if r[0] == "GET" and "/objects/" in r[1]] == []  # ETags, no download
        key = f"objects/{object_path(Path('.'), sources['train.csv']).name}"
        seaweed.client("writer").put_object(Bucket=bucket[5:], Key=key, Body=b"label,pixel1\n1,0\n2,254\n")
        with seaweedfs.count_requests() as requests:
            assert repair(reg, NAME, top_hash, list(sources.values())) == ["train.csv"]
        assert requests.uploads()[0] == 1
        assert registry.verify(registry=bucket).problems == []


# --- manifests no version pointer names -------------------------------------------------------


def test_a_registry_that_lost_its_version_pointers_is_damage(reg, sources):
    second = registry.push(NAME, {"test.csv": sources["test.csv"]}, registry=str(reg))
    shutil.rmtree(reg / ".quilt" / "named_packages")  # list showed 0 versions, verify "no problems"
    done = cli("packages", "verify", "--registry", str(reg))
    assert done.returncode == IntegrityError.exit_code, done.stdout
    manifests = sorted(registry.open(str(reg)).list_keys(".quilt/packages"))
    assert len(manifests) == 2 and second in manifests
    for top_hash, line in zip(manifests, sorted(done.stderr.splitlines()), strict=True):  # one line each
        assert f"manifest {top_hash} in local registry" in line and "lost its version pointers" in line, line


def test_a_manifest_a_killed_push_left_without_its_pointer_is_a_note(reg, sources):
    pointers = reg / ".quilt" / "named_packages" / NAME
    kept = {p.name: p.read_bytes() for p in pointers.iterdir()}
    unnamed = registry.push(NAME, {"test.csv": sources["test.csv"]}, registry=str(reg))
    for path in pointers.iterdir():  # killed after its manifest, before its pointers
        path.unlink()
    for stamp, value in kept.items():
        (pointers / stamp).write_bytes(value)
    done = cli("packages", "verify", "--registry", str(reg))
    assert done.returncode == 0, done.stderr
    assert f"note: manifest {unnamed} is named by no version pointer" in done.stdout
    assert "1 version(s)" in done.stdout and "no problems" in done.stdout
