"""The README's shell commands (and docs/*.md's, and the one train.ipynb's first cell quotes) work as written.

Every command is extracted from the README's (and docs/*.md's) ```bash blocks and its inline `make ...`, `docker ...`,
`.venv/bin/...` and `mkdir ...` spans, and must be listed here: either RUN (finishes in about a
minute here; run verbatim with bash in a fresh copy of this checkout, as a new user would after
`make setup`) or DOCUMENTED_ONLY (with the reason and where else it is exercised). A command added to
the README without a place here fails the test, so the README can't drift from what works.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from fashion_lib import settings
from fashion_lib.sources import find_in

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = [README, *sorted((ROOT / "docs").glob("*.md"))]
INLINE_COMMAND = re.compile(r"^(make |docker |\.venv/bin/|mkdir |papermill |CI=|JUPYTER_TOKEN=)")

PAPERMILL = "mkdir -p out && .venv/bin/papermill train.ipynb out/train.ipynb -p preset quick -p epochs 2 -p model_package demo/quick"
REPLOT = ".venv/bin/python benchmarks/train_bench.py --replot docs/accuracy_vs_time.json"
SCREEN = ".venv/bin/python benchmarks/recipe_screen.py --summary docs/recipe_screen.jsonl"
# command: timeout in seconds (about a minute here; generous for busy machines)
RUN = {PAPERMILL: 600, REPLOT: 300, SCREEN: 120}

DOCUMENTED_ONLY: list[tuple[str, str]] = [
    (
        r"^\.venv/bin/python benchmarks/(csv_load|csv_write|import|registry|verify|gc|quality|docker)_bench\.py\b",
        "a benchmark: minutes of timing, meant for an idle machine (make bench runs seven of them)",
    ),
    (r"^make (run|test|notebooks|bench)\b", "minutes of training or tests (CI runs make test)"),
    (r"^make (setup|test-fast|lock|lock-check|lint)\b", "CI runs it (.ci/run)"),
    (
        r"^mkdir REG && chgrp team REG && chmod 2775 REG$",
        "needs a group and a second user: tests/test_registry_shared_folders.py makes such a folder for real",
    ),
    (
        r"^\.venv/bin/python benchmarks/train_bench\.py --json docs/accuracy_vs_time\.json$",
        "30 to 45 minutes of training; its --replot form runs",
    ),
    (
        r"^\.venv/bin/python benchmarks/recipe_screen\.py --cost$",
        "minutes of timing; tests/test_recipe_screen.py checks the script",
    ),
    (r"^(JUPYTER_TOKEN=\S+ )?make lab\b", "a server; tests/test_lab_browser.py drives it"),
    (r"^CI=true bash \.ci/run", "the whole CI run"),
    (
        r"^\.venv/bin/python tests/cpu_profile\.py cpu\.tsv$",
        "needs cpu.tsv from a profiled run of the whole suite; tests/test_cpu_profile.py profiles a small file",
    ),
    (r"^make docker-build\b|^docker ", "needs the image; tests/test_docker_image.py runs the batch command verbatim"),
    (
        r"^\(umask|^mkdir -p -m 700 ~/\.config/fashion-mnist",
        "writes to your home folder; the docker test mounts such a token file",
    ),
    (r"^TF_CONFIG=", "two machines; tests/test_multiworker.py runs two workers"),
    (
        r"^make registry-server\b|^source registry-server/",
        "a server; tests/test_registry_server.py starts it and publishes with the keys it prints",
    ),
    (
        r"^\.venv/bin/fashion (data prepare|packages list)\b",
        "against the team server sourced above; tests/test_registry_server.py publishes and fetches there",
    ),
]


def readme_commands(markdown: str) -> list[str]:
    """Shell commands: lines of ```bash blocks (continuations joined) and inline command spans."""
    commands: list[str] = []
    for block in re.findall(r"^```(?:bash|sh|shell)\n(.*?)^```", markdown, re.MULTILINE | re.DOTALL):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                commands.append(line)
    prose = re.sub(r"^```.*?^```", "", markdown, flags=re.MULTILINE | re.DOTALL)
    for span in re.findall(r"`([^`\n]+)`", prose):
        if INLINE_COMMAND.match(span.strip()):
            commands.append(span.strip())
    return list(dict.fromkeys(commands))


def without_comment(command: str) -> str:
    """The command without a trailing `# comment` (the README explains commands that way)."""
    return re.split(r"\s+#\s", command, maxsplit=1)[0].strip()


def notebook_command() -> str:
    """The papermill command quoted in train.ipynb's first cell."""
    first = nbformat.read(ROOT / "train.ipynb", as_version=4).cells[0].source
    match = re.search(r"`([^`]*papermill train\.ipynb[^`]*)`", first)
    assert match, "train.ipynb's first cell quotes no papermill command"
    return match.group(1)


def classify(command: str) -> str:
    if without_comment(command) in RUN:
        return "run"
    for pattern, reason in DOCUMENTED_ONLY:
        if re.search(pattern, without_comment(command)):
            return f"documented only: {reason}"
    return "unlisted"


def documented_commands() -> list[str]:
    """The commands of the README and of every page under docs/, each once."""
    return list(dict.fromkeys(c for page in DOCS for c in readme_commands(page.read_text())))


def test_every_readme_command_is_run_or_listed() -> None:
    commands = documented_commands()
    assert len(commands) >= 8, f"the extractor found too few commands: {commands}"
    report = {command: classify(command) for command in commands}
    print(json.dumps(report, indent=1))
    unlisted = [c for c, verdict in report.items() if verdict == "unlisted"]
    assert not unlisted, f"README or docs commands neither run nor listed in {Path(__file__).name}: {unlisted}"
    ran = {without_comment(c) for c, verdict in report.items() if verdict == "run"}
    assert ran == set(RUN), f"commands to run that the README and docs no longer show: {set(RUN) - ran}"


def test_the_notebook_quotes_the_readme_command() -> None:
    assert notebook_command() == PAPERMILL
    assert PAPERMILL in {without_comment(c) for c in readme_commands(README.read_text())}


def test_extractor_finds_blocks_and_spans() -> None:
    text = "a\n```bash\nmake run    # x\necho a \\\n  b\n```\nsee `make lab` and `fashion run` and `docker ps`\n"
    assert readme_commands(text) == ["make run    # x", "echo a    b", "make lab", "docker ps"]
    assert classify("make run    # x").startswith("documented only")
    assert classify("rm -rf /") == "unlisted"


def fresh_copy(destination: Path) -> Path:
    """The checkout's files as a fresh clone has them (tracked and new, not ignored), with `.venv`
    pointing at the environment running these tests (what `make setup` would have made)."""
    listed = (
        subprocess.run(
            ["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file() and not source.is_symlink():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    (destination / ".venv").symlink_to(Path(sys.prefix), target_is_directory=True)
    return destination


@pytest.mark.slow
@pytest.mark.skipif(
    find_in(settings.DEBIAN_DATASET_DIR) is None, reason="Debian package dataset-fashion-mnist is not installed"
)
@pytest.mark.parametrize("command", sorted(RUN), ids=lambda command: command.split(" && ")[-1])
def test_readme_command_works_verbatim_on_a_fresh_copy(command: str, tmp_path: Path) -> None:
    clone = fresh_copy(tmp_path / "fashion-mnist")
    assert not (clone / "out").exists() and not (clone / "registry").exists()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FASHION_") and k != "PYTHONPATH"}
    env["QUILT_MINIMIZE_STDOUT"] = "true"
    plot = clone / "docs" / "accuracy_vs_time.png"
    if command == REPLOT:
        plot.unlink()  # the command must draw it again from the committed figures
    result = subprocess.run(
        ["bash", "-c", command], cwd=clone, env=env, capture_output=True, text=True, timeout=RUN[command]
    )
    assert result.returncode == 0, (
        f"{command}\nexit {result.returncode}:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    )
    if command == REPLOT:
        recipes = [row["recipe"] for row in json.loads((clone / "docs" / "accuracy_vs_time.json").read_text())]
        assert len(recipes) == 4 and all(recipe in result.stdout for recipe in recipes)  # keras.io, v1, v2, default
        assert plot.read_bytes().startswith(b"\x89PNG")
    if command == SCREEN:
        assert "| vgg4_e30e8 |" in result.stdout and "| base | the v2 recipe, then the default | 3 |" in result.stdout
    if "papermill train.ipynb out/train.ipynb" in command:
        nb = nbformat.read(clone / "out" / "train.ipynb", as_version=4)
        errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
        assert not errors
        runs = list((clone / "outputs").glob("run-*"))
        assert len(runs) == 1, f"expected the run's outputs in ./outputs, found {runs}"
        metrics = json.loads((runs[0] / "metrics.json").read_text())
        assert metrics["epochs_run"] == 2 and metrics["model_top_hash"]
        assert metrics["test_accuracy"] > 0.5  # a real model for the reader, far above chance (0.1)
        named = clone / "registry" / ".quilt" / "named_packages"
        assert (named / "demo" / "quick").is_dir()  # the demo's own package:
        assert not (named / "fashion-mnist" / "model").exists()  # the real model's latest is left alone
