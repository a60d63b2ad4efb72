"""Small modules, short functions: no module of ``fashion_lib`` over 300 lines, no function over 60.

Counted from the source with ``ast`` (a function's lines run from its ``def``, decorators
included, to its last statement; nested functions count towards the function around them).
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "fashion_lib"
MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 60
# Modules allowed to be longer, each with its reason. Keep this short.
MODULE_ALLOWLIST: dict[str, str] = {}  # module -> why it may be longer (none today)


def module_sizes(package: Path = PACKAGE) -> dict[str, int]:
    return {str(p.relative_to(package)): len(p.read_text(encoding="utf-8").splitlines()) for p in package.rglob("*.py")}


def function_sizes(package: Path = PACKAGE) -> dict[str, int]:
    sizes = {}
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                sizes[f"{path.relative_to(package)}:{node.lineno} {node.name}"] = node.end_lineno - first + 1
    return sizes


def test_no_module_over_300_lines():
    long = {name: n for name, n in module_sizes().items() if n > MAX_MODULE_LINES and name not in MODULE_ALLOWLIST}
    assert not long, f"modules over {MAX_MODULE_LINES} lines (split them by concern): {long}"


def test_no_function_over_60_lines():
    long = {name: n for name, n in function_sizes().items() if n > MAX_FUNCTION_LINES}
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines (extract helpers): {long}"


def test_the_counter_sees_a_long_function_and_a_long_module(tmp_path):
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES + 5))
    (tmp_path / "big.py").write_text(f"def big():\n{body}\n" + "\n" * MAX_MODULE_LINES, encoding="utf-8")
    assert function_sizes(tmp_path)["big.py:1 big"] == MAX_FUNCTION_LINES + 6
    assert module_sizes(tmp_path)["big.py"] > MAX_MODULE_LINES
