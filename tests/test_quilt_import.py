"""quilt3 is imported without jsonschema's optional ``rfc3987_syntax`` (seconds of grammar
compiling per command, benchmarks/import_bench.py), and nothing else loses that module."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_quilt3_loads_without_the_iri_grammars_and_the_module_stays_importable() -> None:
    out = _run(
        "import sys\n"
        "from fashion_lib.registry.quilt import quilt\n"
        "q = quilt()\n"
        "print('rfc3987_syntax' in sys.modules, q.Package.__name__)\n"
        "import rfc3987_syntax\n"
        "print(callable(rfc3987_syntax.is_valid_syntax))\n"
    )
    assert out.splitlines() == ["False Package", "True"]


def test_a_process_that_loaded_jsonschema_first_keeps_its_iri_checks() -> None:
    out = _run(
        "import jsonschema._format as formats\n"
        "from fashion_lib.registry.quilt import quilt\n"
        "quilt()\n"
        "print('iri' in formats.draft7_format_checker.checkers)\n"
    )
    assert out == "True"
