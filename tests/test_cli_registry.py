"""The command line and its registry: --registry everywhere, and each registry failure's exit code."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cli_support import cli, closed_s3_env, one_line  # tests/ is on sys.path

from fashion_lib import registry
from fashion_lib.cli import build_parser

NAME = "fashion-mnist/model"


def test_registry_option_on_every_registry_command() -> None:
    parser = build_parser()
    for argv in (
        ["data", "prepare"],
        ["data", "fetch", "--dest", "x"],
        ["packages", "list"],
        ["train"],
        ["run"],
        ["evaluate"],
        ["model", "fetch", "--dest", "x"],
        ["lineage"],
        ["reproduce", "abc"],
    ):
        assert parser.parse_args([*argv, "--registry", "s3://bucket"]).registry == "s3://bucket"


def test_unknown_registry_package_is_one_line(tmp_path) -> None:
    done = cli("lineage", "--registry", str(tmp_path / "empty"))
    assert done.returncode == 4  # PackageNotFound (README exit codes)
    assert done.stderr.startswith("fashion: error: ") and done.stderr.count("\n") == 1, done.stderr


def test_a_registry_folder_that_does_not_exist_is_said_not_read_as_empty(tmp_path) -> None:
    """A mistyped --registry (or a link to nowhere) must not look like an empty registry."""
    (tmp_path / "reg").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "nowhere")
    for typo in (tmp_path / "regg", tmp_path / "link"):
        for command in (["packages", "list"], ["packages", "verify"], ["packages", "gc"]):
            done = cli(*command, "--registry", str(typo))  # named, not there: one line, exit 4 (as a fetch)
            assert done.returncode == 4 and done.stdout == "", done.stdout
            assert f"{typo.resolve()}: no such folder (nothing has been published there)" in one_line(done)
        line = one_line(cli("model", "fetch", "--dest", str(tmp_path / "out"), "--registry", str(typo)))
        assert line.endswith("publish it first, or point FASHION_REGISTRY at the registry that has it")
        assert "(no such folder)" in line and "it is empty" not in line
    assert not (tmp_path / "regg").exists() and not (tmp_path / "nowhere").exists()  # reading creates nothing
    done = cli("packages", "list", "--registry", str(tmp_path / "reg"))  # there, and empty
    assert "no such folder" not in done.stdout and done.stdout.startswith("local registry ")
    assert "(it is empty)" in one_line(cli("lineage", "--registry", str(tmp_path / "reg")))


@pytest.mark.slow  # boto3 gives up on a refused port only after its connect attempts (~50 s loaded)
def test_unreachable_s3_registry_is_exit_5_and_prepares_nothing(tmp_path):
    home = tmp_path / "home"
    env = closed_s3_env(home)  # connections refused
    for args in (["run", "--preset", "quick"], ["packages", "list"], ["data", "fetch", "--dest", str(tmp_path / "o")]):
        done = cli(*args, "--registry", "s3://bucket", **env)
        line = one_line(done)
        assert done.returncode == 5 and "cannot reach s3://bucket" in line, done.stderr
    assert not (home / "data").exists() and not (home / "outputs").exists()  # nothing prepared, nothing trained
    assert "preparing" not in done.stderr


@pytest.mark.slow  # imports quilt3 and its stack (~15 s on a loaded machine)
def test_read_only_registry_is_access_denied_exit_6(tmp_path):
    from fashion_lib.errors import RegistryAccessDenied

    target = Path("/sys/fashion-test-registry")  # sysfs: read-only for everyone, root included
    if os.access("/sys", os.W_OK) and not target.exists():
        try:
            target.mkdir()
            target.rmdir()
            pytest.skip("/sys is writable here")
        except OSError:
            pass
    (tmp_path / "x.csv").write_text("x")
    with pytest.raises(RegistryAccessDenied, match="not writable") as info:
        registry.push(NAME, {"x.csv": tmp_path / "x.csv"}, registry=str(target))
    assert info.value.exit_code == 6 and str(target) in str(info.value)
