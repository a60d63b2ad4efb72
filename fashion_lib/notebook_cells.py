"""What papermill injected into the running notebook, read from IPython's record of the cells it ran.

papermill runs the cell tagged ``parameters``, then its own cell (first line ``# Parameters``) with
the values given by ``-p NAME VALUE``. It only warns about a name the notebook does not define
(``-p epoch 1`` for ``epochs``), and the run goes on with the default: :func:`check_injected` makes
that a one-line :class:`~fashion_lib.errors.ConfigError` instead.
"""

from __future__ import annotations

import ast
import difflib
from typing import Any

from .errors import ConfigError

INJECTED = "# Parameters"  # the first line of the cell papermill injects
_PAPERMILL_OWN = "PAPERMILL_"  # papermill --inject-paths adds PAPERMILL_INPUT_PATH and PAPERMILL_OUTPUT_PATH


def check_injected(shell: Any) -> None:
    """ConfigError naming each parameter papermill injected that the notebook's parameters cell does
    not assign, with the close match and the notebook's parameters. Nothing outside IPython, where no
    injected cell ran, or where the cell run before it is not a parameters cell (only assignments)."""
    found = injected_names(shell)
    if found is None:
        return
    defined, injected = found
    unknown = [name for name in injected if name not in defined and not name.startswith(_PAPERMILL_OWN)]
    if unknown:
        raise ConfigError(unknown_message(unknown, defined))


def injected_names(shell: Any) -> tuple[list[str], list[str]] | None:
    """(names the parameters cell assigns, names the injected cell assigns), from the last injected cell
    in the shell's history (``In``) and the cell run just before it; None where there is no such pair."""
    history = getattr(shell, "user_ns", {}).get("In") if shell is not None else None
    if not isinstance(history, list):
        return None
    ran = [cell if isinstance(cell, str) else "" for cell in history]
    last = next((i for i in range(len(ran) - 1, 0, -1) if ran[i].lstrip().startswith(INJECTED)), None)
    if last is None:
        return None
    defined, injected = _assigned(ran[last - 1]), _assigned(ran[last])
    if not defined or injected is None:
        return None
    return defined, injected


def unknown_message(unknown: list[str], defined: list[str]) -> str:
    """``unknown notebook parameter 'epoch' (did you mean 'epochs'?); this notebook's parameters: ...``."""
    lowered = {name.lower(): name for name in defined}  # -p Epochs 3 finds epochs
    said = []
    for name in unknown:
        close = difflib.get_close_matches(name.lower(), list(lowered), n=1)
        said.append(f"{name!r}" + (f" (did you mean {lowered[close[0]]!r}?)" if close else ""))
    noun = "parameter" if len(unknown) == 1 else "parameters"
    return f"unknown notebook {noun} {', '.join(said)}; this notebook's parameters: {', '.join(defined)}"


def _assigned(source: str) -> list[str] | None:
    """The names a cell of plain assignments (``name = value``) assigns, in order; None for any other cell."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # a string on its own: a note
        targets = (
            node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else None
        )
        if targets is None or not all(isinstance(t, ast.Name) for t in targets):
            return None
        names += [t.id for t in targets if t.id not in names]
    return names
