"""Folders whose names are not UTF-8 (a Latin-1 ``é``, byte 0xE9), as a registry, an input folder or in a
message: Python keeps those bytes as lone surrogates, which a manifest (UTF-8 JSON) cannot hold."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from csv_support import fashion_csvs

from fashion_lib import registry
from fashion_lib.registry.publish import publish

LATIN1 = os.fsdecode(b"lat\xe9")  # 'lat\udce9'


def test_a_path_that_is_not_utf8_in_the_metadata_is_published_escaped(tmp_path: Path) -> None:
    """Before: UnicodeEncodeError from quilt3's manifest writer (the CLI's exit 70, after training)."""
    reg = registry.open(str(tmp_path / "reg"))
    source = tmp_path / "file.txt"
    source.write_text("x")
    where = str(tmp_path / LATIN1 / "registry")
    done = publish(
        reg,
        "test/pkg",
        {"file.txt": source},
        meta={"data_registry": where, "n": [where]},
        message=f"from {where}",
        readme=f"# made from {where}\n",
    )
    manifest = reg.manifest("test/pkg", done.top_hash)
    assert manifest.meta["data_registry"] == str(tmp_path / "lat\\xe9" / "registry")
    assert manifest.meta["n"] == [manifest.meta["data_registry"]]


def test_push_from_and_into_folders_that_are_not_utf8(tmp_path: Path) -> None:
    """The whole command, as a user on a Latin-1 file system runs it: the registry's folder and the CSVs'
    hold byte 0xE9 (a message must be UTF-8: -m refuses one that is not)."""
    folder = tmp_path / LATIN1
    csvs = fashion_csvs(folder / "csv", seed=3)
    env = {**os.environ, "FASHION_HOME": str(tmp_path / "home"), "FASHION_NO_APT": "1"}
    reg = os.fsencode(folder / "registry")
    command = [sys.executable, "-m", "fashion_lib", "data", "push", "--registry", reg, "--accept", "random test pixels"]
    command += ["--train", os.fsencode(csvs["train"]), "--test", os.fsencode(csvs["test"]), "-m", "café"]
    done = subprocess.run(command, capture_output=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    listed = subprocess.run(
        [sys.executable, "-m", "fashion_lib", "packages", "list", "--json", "--registry", reg],
        capture_output=True,
        env=env,
        timeout=120,
    )
    assert listed.returncode == 0, listed.stderr.decode(errors="replace")
    versions = json.loads(listed.stdout)["versions"]
    assert [v["message"] for v in versions] == ["café"]
