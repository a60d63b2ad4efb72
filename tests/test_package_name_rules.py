"""Package names: every option that takes one (``--name``, ``--data-package``, ``--model-package``) refuses
a name that is not ``owner/name`` alike, a usage error (exit 2) naming the option before the registry is
touched. A name to publish under is ASCII letters, digits, ``_`` and ``-`` (the precomposed and decomposed
spellings of a Unicode name were one valid and one invalid); a name only read may be any a registry holds
(quilt3's own rule), so a package published under a Unicode name before stays listed, verified and fetched,
from the command line too. Real registry folders on disk, the command as a user runs it."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

from fashion_lib import data, registry, settings
from fashion_lib.cli import main
from fashion_lib.errors import RegistryError

UNICODE = "ünï/cødé"
RULE = "expected 'owner/name' (ASCII letters, digits, _ and -)"
PUBLISHING = [
    ["data", "prepare", "--name"],
    ["data", "push", "--train", "a.csv", "--test", "b.csv", "--name"],
    ["model", "push", "RUN", "--model-package"],
    ["train", "--data-package"],
    ["run", "--model-package"],
    ["reproduce", "0", "--model-package"],
]
READING = [
    ["packages", "verify", "--name"],
    ["packages", "list", "--name"],
    ["data", "fetch", "--dest", "DEST", "--name"],
    ["data", "check", "--name"],
    ["model", "fetch", "--dest", "DEST", "--model-package"],
    ["evaluate", "--data-package"],
    ["evaluate", "--model-package"],
    ["lineage", "--model-package"],
    ["predict", "x.png", "--model-package"],
]
BAD_EVERYWHERE = [unicodedata.normalize("NFD", UNICODE), "a b/c", "no-owner"]


@pytest.mark.parametrize(
    ("command", "name"),
    [(c, n) for c in PUBLISHING for n in [UNICODE, *BAD_EVERYWHERE]]
    + [(c, n) for c in READING for n in BAD_EVERYWHERE],
    ids=lambda v: " ".join(v[:2]) if isinstance(v, list) else ascii(v),
)
def test_every_package_name_option_refuses_a_bad_name_alike(
    command: list[str], name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reg = tmp_path / "registry"
    argv = [str(tmp_path / a) if a in ("DEST", "RUN") else a for a in command]
    with pytest.raises(SystemExit) as exited:
        main([*argv, name, "--registry", str(reg)])
    err = capsys.readouterr().err
    assert exited.value.code == 2 and err.count("\n") == 1, err
    assert f"error: argument {command[-1]}: invalid package name {name!r}; {RULE}" in err
    assert list(tmp_path.iterdir()) == []  # no registry, destination or run folder touched


def test_a_new_package_is_never_published_under_a_unicode_name(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "x.csv").write_text("x\n")
    with pytest.raises(RegistryError, match=re.escape(f"invalid package name '{UNICODE}'; {RULE}")):
        registry.push(UNICODE, {"x.csv": tmp_path / "x.csv"}, registry=str(tmp_path / "registry"))
    monkeypatch.setenv("FASHION_HOME", str(tmp_path / "home"))  # the setting, not an option: refused before any work
    monkeypatch.setenv("FASHION_DATA_PACKAGE", UNICODE)
    with pytest.raises(RegistryError, match=f"invalid package name '{UNICODE}'") as info:
        data.prepare_data(registry=str(tmp_path / "registry"), log=lambda line: pytest.fail(line))
    assert info.value.exit_code == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.csv"]


def test_a_package_published_under_a_unicode_name_before_stays_readable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reg = tmp_path / "registry"
    (tmp_path / "x.csv").write_text("x\n")
    csvs = {settings.TRAIN_CSV: tmp_path / "x.csv", settings.TEST_CSV: tmp_path / "x.csv"}  # a data package
    top_hash = registry.push("t/data", csvs, registry=str(reg))
    pointers = reg / ".quilt" / "named_packages"
    (pointers / "t").rename(pointers / "ünï")  # as a push of 'ünï/cødé' wrote it before
    (pointers / "ünï" / "data").rename(pointers / "ünï" / "cødé")
    assert main(["packages", "list", "--registry", str(reg)]) == 0
    assert f"{UNICODE:<24} {top_hash[:12]}" in capsys.readouterr().out
    assert main(["packages", "verify", "--registry", str(reg)]) == 0
    fetched = registry.fetch(UNICODE, tmp_path / "out", registry=str(reg))
    assert fetched.top_hash == top_hash and (tmp_path / "out" / settings.TRAIN_CSV).read_text() == "x\n"
    assert main(["packages", "verify", "--name", UNICODE, "--registry", str(reg)]) == 0  # by name, on the command line
    assert main(["data", "fetch", "--name", UNICODE, "--dest", str(tmp_path / "cli"), "--registry", str(reg)]) == 0
    assert (tmp_path / "cli" / settings.TEST_CSV).read_text() == "x\n"
