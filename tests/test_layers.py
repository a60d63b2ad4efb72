"""The library's layers, as the README draws them: imports only point down, and no circles.

Each module of ``fashion_lib`` belongs to one layer; a module may import from its own
layer and from the layers below, never from above, and the import graph has no cycle.
A new module must be given a layer here, so the diagram cannot drift from the code.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "fashion_lib"

# Bottom first. A module's layer is the first whose prefixes match its dotted name.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    (
        "base",
        (
            "__init__",
            "errors",
            "settings",
            "console",
            "runfolder",
            "run_owner",
            "run_history",
            "classes",
            "fsutil",
            "scratch",
            "hashing",
            "backend",
            "precision",
            "config",
        ),
    ),
    ("formats", ("csvformat", "idx", "csvio", "conversion", "validate", "sources", "mirrors", "inputs")),
    ("registry", ("registry", "seaweedfs", "seaweedfs_identities")),
    ("ml", ("model", "portable", "train", "training", "evaluate", "predict", "plots", "quality")),
    (
        "packages",
        (
            "data",
            "data_card",
            "model_card",
            "recipe",
            "lineage",
            "lineage_values",
            "provenance",
            "model_package",
            "quality.gate",
            "quality.reference",
            "tables",
            "answer",
        ),
    ),
    (
        "pipeline",
        (
            "pipeline",
            "parameters",
            "notebook_cells",
            "run_steps",
            "training_run",
            "run_publish",
            "up_to_date",
            "reproduce",
        ),
    ),
    ("top", ("cli", "__main__", "entry", "registry_server")),
]
# Layers side by side: neither may import the other.
SIDE_BY_SIDE = {frozenset({"formats", "registry"}), frozenset({"registry", "ml"})}


def modules() -> dict[str, Path]:
    """Dotted names (relative to the package) of every module file."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[-1] == "__init__" and len(parts) > 1:
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def layer_of(name: str) -> int:
    """The layer naming the module itself (``quality.gate``), else its top package (``quality``)."""
    for key in (name, name.split(".")[0]):
        for index, (_, prefixes) in enumerate(LAYERS):
            if key in prefixes:
                return index
    raise AssertionError(f"fashion_lib.{name} has no layer in tests/test_layers.py; add it to LAYERS")


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The package modules ``name`` imports (relative and absolute imports alike)."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                stem = base + (node.module.split(".") if node.module else [])
            elif node.module and node.module.split(".")[0] == "fashion_lib":
                stem = node.module.split(".")[1:]
            else:
                continue
            targets = [".".join(stem + [alias.name]) for alias in node.names]
        elif isinstance(node, ast.Import):
            targets = [a.name.split(".", 1)[1] for a in node.names if a.name.startswith("fashion_lib.")]
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def graph() -> dict[str, set[str]]:
    mods = modules()
    return {name: imports(name, path, set(mods)) for name, path in mods.items()}


def test_every_module_has_a_layer():
    for name in modules():
        layer_of(name)


def test_imports_point_down_or_sideways():
    upward = []
    for name, targets in graph().items():
        for target in targets:
            if target == "__init__" or (
                name.split(".")[0] == target.split(".")[0] and layer_of(name) == layer_of(target)
            ):
                continue  # the package's face, and modules of one layer inside one subpackage
            mine, theirs = layer_of(name), layer_of(target)
            pair = frozenset({LAYERS[mine][0], LAYERS[theirs][0]})
            if theirs > mine or (mine != theirs and pair in SIDE_BY_SIDE):
                upward.append(f"{name} ({LAYERS[mine][0]}) imports {target} ({LAYERS[theirs][0]})")
    assert not upward, "imports that point up:\n" + "\n".join(sorted(upward))


def test_no_import_cycles():
    edges = graph()
    state: dict[str, int] = {}
    cycles = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(
                    " -> ".join(trail[trail.index(nxt) :] + [node, nxt]) if nxt in trail else f"{node} -> {nxt}"
                )
            elif nxt not in state:
                visit(nxt, trail + [node])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [])
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_the_checker_sees_a_planted_upward_import(tmp_path):
    """The checker itself works: an import from cli inside a base module is found."""
    fake = tmp_path / "fashion_lib"
    fake.mkdir()
    (fake / "errors.py").write_text("from .cli import main\n", encoding="utf-8")
    (fake / "cli.py").write_text("from . import errors\n", encoding="utf-8")
    known = {"errors", "cli"}
    assert imports("errors", fake / "errors.py", known) == {"cli"}
    assert layer_of("cli") > layer_of("errors")


def test_every_subpackage_is_installed():
    """``pyproject.toml`` lists packages by hand: a new subpackage left out would be missing from the
    image's (non-editable) install while every test run from the source tree still passed."""
    import tomllib

    pyproject = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(pyproject["tool"]["setuptools"]["packages"])
    on_disk = {".".join(("fashion_lib", *p.parent.relative_to(PACKAGE).parts)) for p in PACKAGE.rglob("__init__.py")}
    assert on_disk <= listed, f"add to [tool.setuptools] packages in pyproject.toml: {sorted(on_disk - listed)}"
