"""The layering of DESIGN §2, read from the code: each package imports only the layers below it.

`domain` ← `projections` ← `consumers` ← `replay` ← `ledger` (the composition root): no file
below `ledger/` imports `ledger`, and none imports a package above its own. The imports are
parsed (ast), so a lazy import inside a function counts as much as one at the top.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LAYERS = ["domain", "projections", "consumers", "replay", "ledger"]


def _imported_packages(path: Path) -> set[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[tuple[int, str]] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update((node.lineno, alias.name.split(".")[0]) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add((node.lineno, node.module.split(".")[0]))
    return found


@pytest.mark.parametrize("package", LAYERS[:-1])
def test_no_package_imports_a_layer_above_it(package: str) -> None:
    above = set(LAYERS[LAYERS.index(package) + 1 :])
    wrong = [
        f"{path.relative_to(REPO)}:{line} imports {name}"
        for path in sorted((REPO / package).rglob("*.py"))
        for line, name in sorted(_imported_packages(path))
        if name in above
    ]
    assert not wrong, "\n".join(wrong)


def test_the_check_sees_an_upward_import(tmp_path: Path) -> None:
    source = tmp_path / "example.py"
    source.write_text("import os\n\ndef f():\n    from ledger.bootstrap import Ledger\n    return Ledger\n")
    assert (4, "ledger") in _imported_packages(source)


def test_only_ledger_config_reads_the_ledgers_settings_from_the_environment() -> None:
    """Every LEDGER_* variable is read in ledger/config.py (once, typed, checked); the rest of the
    code gets Settings. (`consumers/failpoints.py` reads the tests' LEDGER_FAILPOINTS itself.)"""
    import re

    # a read: os.environ.get("LEDGER_…") or os.environ["LEDGER_…"] not followed by "=" (setting one
    # for child processes, as `serve` does for its workers, is no read)
    reads = re.compile(r"os\.environ(?:\.get\(\s*[\"'](LEDGER_[A-Z_]+)|\[\s*[\"'](LEDGER_[A-Z_]+)[\"']\s*\](?!\s*=))")
    allowed = {Path("ledger/config.py"), Path("consumers/failpoints.py")}
    found: dict[str, list[str]] = {}
    for package in LAYERS:
        for path in sorted((REPO / package).rglob("*.py")):
            relative = path.relative_to(REPO)
            names = [a or b for a, b in reads.findall(path.read_text(encoding="utf-8"))]
            if names and relative not in allowed:
                found[str(relative)] = names
    assert not found, f"settings read outside ledger/config.py: {found}"
