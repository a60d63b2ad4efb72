"""One line, the right culprit and the README's exit code, for every failure the issue found."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest
from cli_support import cli, one_line  # tests/ is on sys.path

from fashion_lib import registry
from fashion_lib.cli import INTERNAL_ERROR, main
from fashion_lib.errors import ConfigError
from fashion_lib.settings import display_path

NAME = "fashion-mnist/model"


@pytest.fixture
def no_lineage(tmp_path: Path) -> str:
    reg = str(tmp_path / "registry")
    (tmp_path / "clf.keras").write_bytes(b"not really a model")
    registry.push(NAME, {"clf.keras": tmp_path / "clf.keras"}, registry=reg, meta={"data": "mangled"})
    return reg


@pytest.mark.parametrize("command", [["lineage"], ["reproduce", "0"]])
def test_lineage_and_reproduce_without_lineage_metadata(no_lineage, command):
    top_hash = registry.resolve_top_hash(NAME, None, registry=no_lineage)
    args = [command[0], top_hash[:12]] if command[0] == "reproduce" else command
    done = cli(*args, "--registry", no_lineage)
    assert done.returncode == 2 and "has no usable lineage (data is not a dict)" in one_line(done)


def test_home_folder_that_cannot_be_written_is_named(tmp_path):
    (tmp_path / "file").write_text("a file where a folder should be")
    home = tmp_path / "file" / "home"
    done = cli("data", "prepare", "--registry", str(tmp_path / "registry"), FASHION_HOME=str(home))
    line = one_line(done)
    assert done.returncode == 2 and "home folder" in line and str(home) in line


def png_header(width: int, height: int) -> bytes:
    """A PNG's signature and IHDR chunk (8-bit greyscale) with no image data: all a header check reads."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(ihdr)) + chunk + struct.pack(">I", zlib.crc32(chunk))


def test_huge_and_non_png_images_are_refused_from_their_header(tmp_path):
    (tmp_path / "huge.png").write_bytes(png_header(20000, 20000))
    done = cli("predict", str(tmp_path / "huge.png"), "--model", str(tmp_path / "none.keras"))
    assert done.returncode == 2 and "20000x20000, expected 28x28" in one_line(done)
    (tmp_path / "photo.png").write_bytes(b"\xff\xd8\xff\xe0 a JPEG in disguise")
    done = cli("predict", str(tmp_path / "photo.png"), "--model", str(tmp_path / "none.keras"))
    assert done.returncode == 2 and "not a PNG file" in one_line(done)


def test_a_malformed_csv_to_classify_is_an_input_mistake_exit_2(tmp_path):
    """The same line as the circuit breaker's, but predict's input is the user's file: exit 2, not 1."""
    (tmp_path / "few.csv").write_text("label,pixel1\n1,2\n")
    done = cli("predict", str(tmp_path / "few.csv"), "--model", str(tmp_path / "none.keras"))
    assert done.returncode == 2, done.stderr
    line = one_line(done)
    assert line.endswith(
        f": {display_path(tmp_path / 'few.csv')}: line 1 (header): 2 columns, expected 785 (label,pixel1,...,pixel784)"
    )
    validated = cli("data", "validate", str(tmp_path / "few.csv"))
    assert validated.returncode == 1 and one_line(validated) == line  # the circuit breaker keeps exit 1


def test_unforeseen_errors_are_one_line_exit_70_and_debug_shows_the_trace(monkeypatch, capsys):
    import fashion_lib.cli.packages as cli_module

    def boom(args):
        raise RuntimeError("something nobody\nforesaw")

    monkeypatch.setattr(cli_module, "cmd_packages_list", boom)  # the parser is built inside main()
    monkeypatch.delenv("FASHION_DEBUG", raising=False)
    assert main(["packages", "list"]) == INTERNAL_ERROR
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "RuntimeError: something nobody foresaw" in err and "FASHION_DEBUG=1" in err
    monkeypatch.setenv("FASHION_DEBUG", "1")
    assert main(["packages", "list"]) == INTERNAL_ERROR
    assert "Traceback" in capsys.readouterr().err


def _no_data(tmp_path: Path) -> dict[str, str]:
    """An environment whose home is ``tmp_path`` and where no data can be found or downloaded."""
    return {
        "FASHION_HOME": str(tmp_path),
        "FASHION_RAW_DIR": str(tmp_path / "no-raw-files"),
        "FASHION_NO_APT": "1",
        "FASHION_REGISTRY": "",
        "FASHION_OUTPUT_DIR": "",
    }


@pytest.mark.parametrize(
    "tf_config, fragment",
    [
        ("[]", "TF_CONFIG: got []; expected a JSON object"),
        ('{"cluster": {"worker": "notalist"}, "task": {"type": "worker", "index": 0}}', '"worker" is "notalist"'),
        ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": "x"}}', '"index" is "x"'),
        ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 5}}', '"index" is 5'),
        ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "ps", "index": 0}}', '"worker" and "chief"'),
    ],
)
@pytest.mark.parametrize("command", ["train", "run"])
def test_a_bad_tf_config_is_one_line_before_anything_is_made(tmp_path, command, tf_config, fragment):
    done = cli(command, "--preset", "quick", TF_CONFIG=tf_config, **_no_data(tmp_path))
    line = one_line(done)
    assert done.returncode == 2 and line.startswith("fashion: error: TF_CONFIG: ") and fragment in line, line
    assert list(tmp_path.iterdir()) == []  # no run folder, no data, no registry


def test_a_training_that_fails_leaves_no_run_folder(tmp_path, monkeypatch, capsys):
    import fashion_lib.run_steps as steps
    import fashion_lib.train as train

    class Data:
        registry = str(tmp_path / "registry")
        train = range(60000)  # as many training images as Fashion-MNIST (the split is checked against it)

        def describe(self) -> str:
            return "some data"

    def no_strategy():
        raise ConfigError("no strategy today")

    monkeypatch.setattr(steps, "load_data", lambda **kwargs: Data())
    monkeypatch.setattr(steps, "ensure_quality", lambda data: None)
    monkeypatch.setattr(train, "strategy_from_environment", no_strategy)
    for name, value in _no_data(tmp_path).items():
        monkeypatch.setenv(name, value)
    assert main(["train", "--preset", "quick"]) == 2
    assert "no strategy today" in capsys.readouterr().err
    assert not (tmp_path / "outputs").exists()


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["data", "fetch", "--dest", ""], "argument --dest: is empty; expected a folder"),
        (["data", "fetch", "--dest", "  "], "argument --dest: is only spaces; expected a folder"),
        (["model", "fetch", "--dest", ""], "argument --dest: is empty; expected a folder"),
        (["data", "fetch", "--dest", "{file}"], "argument --dest: {file} is a file; expected a folder"),
        (["data", "fetch", "--dest", "{file}/sub"], "argument --dest: {file}/sub cannot be made: {file} is a file"),
        (["train", "--output-dir", ""], "argument --output-dir: is empty; expected a folder"),
        (["train", "--output-dir", "{file}"], "argument --output-dir: {file} is a file; expected a folder"),
        (["reproduce", "0", "--output-dir", " "], "argument --output-dir: is only spaces"),
        (["data", "check", "--json", ""], "argument --json: is empty; expected a file path"),
        (["data", "check", "--json", "{folder}"], "argument --json: {folder} is a folder; expected a file path"),
        (
            ["data", "check", "--json", "{file}/x.json"],
            "argument --json: {file}/x.json cannot be made: {file} is a file",
        ),
        (["data", "validate", "x.csv", "--rows", "0"], "argument --rows: expected an integer >= 1; got '0'"),
        (["data", "validate", "x.csv", "--rows", "-1"], "argument --rows: expected an integer >= 1; got '-1'"),
        (["packages", "list", "--registry", ""], "argument --registry: is empty; expected a registry folder"),
        (["packages", "list", "--registry", "  "], "argument --registry: is only spaces"),
        (["packages", "list", "--registry", "s3://"], "'s3://' names no bucket; an S3 registry is s3://BUCKET"),
        (["packages", "list", "--registry", "s3:///"], "names no bucket; an S3 registry is s3://BUCKET"),
        (
            ["data", "fetch", "--registry", "http://example.com/r", "--dest", "{folder}/d"],
            "registry 'http://example.com/r': http:// is not a registry; expected a folder, file://FOLDER or s3://BUCKET",
        ),
    ],
)
def test_empty_and_impossible_paths_are_usage_errors_naming_the_option(tmp_path, args, fragment):
    (tmp_path / "file").write_text("a file where a folder should be")
    (tmp_path / "folder").mkdir()
    names = {"file": str(tmp_path / "file"), "folder": str(tmp_path / "folder")}
    done = cli(*(arg.format(**names) for arg in args), **_no_data(tmp_path))
    assert done.returncode == 2 and fragment.format(**names) in one_line(done)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "folder"]


@pytest.mark.parametrize("variable", ["FASHION_HOME", "FASHION_REGISTRY", "FASHION_DATA_PACKAGE"])
def test_a_variable_of_only_spaces_is_named(tmp_path, variable):
    done = cli("data", "fetch", "--dest", str(tmp_path / "dest"), **{**_no_data(tmp_path), variable: "  "})
    assert done.returncode == 2 and f"fashion: error: {variable} is only spaces; expected " in one_line(done)


def test_an_empty_variable_means_unset(monkeypatch):
    from fashion_lib import settings

    monkeypatch.delenv("FASHION_HOME", raising=False)
    default = settings.home()
    monkeypatch.setenv("FASHION_HOME", "")
    assert settings.home() == default and settings.registry() == str((default / "registry").resolve())
    monkeypatch.setenv("FASHION_MIRRORS", " , ")
    with pytest.raises(ConfigError, match="FASHION_MIRRORS is ','; expected comma-separated URLs"):
        settings.mirrors()


def test_a_file_written_over_a_folder_names_the_file_not_its_temporary_name(tmp_path):
    from fashion_lib.cli.main import _os_error
    from fashion_lib.fsutil import atomic_path

    (tmp_path / "report.json").mkdir()
    with pytest.raises(OSError) as caught, atomic_path(tmp_path / "report.json") as tmp:
        tmp.write_text("{}")
    assert _os_error(caught.value) == f"cannot use {tmp_path / 'report.json'}: it is a folder; expected a file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]
