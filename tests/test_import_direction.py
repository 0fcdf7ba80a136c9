"""The direction of imports between our packages, as `make lint` checks it with import-linter:
monitoring uses workshops, workshops uses escalation, never the reverse, and escalation imports
nothing of config."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "pyproject.toml"],
        cwd=tree,
        capture_output=True,
        text=True,
        check=False,
    )


def copy_of_the_project(destination: Path) -> Path:
    for package in ("config", "escalation", "workshops", "monitoring"):
        shutil.copytree(
            ROOT / package, destination / package, ignore=shutil.ignore_patterns("*.pyc")
        )
    shutil.copy(ROOT / "pyproject.toml", destination / "pyproject.toml")
    return destination


def test_the_project_keeps_its_import_contracts():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout


def test_escalation_importing_workshops_breaks_the_contract(tmp_path):
    tree = copy_of_the_project(tmp_path)
    (tree / "escalation" / "planted.py").write_text("import workshops.models\n")
    result = lint_imports(tree)
    assert result.returncode != 0
    assert "escalation.planted -> workshops.models" in result.stdout


def test_escalation_importing_config_breaks_the_contract(tmp_path):
    tree = copy_of_the_project(tmp_path)
    (tree / "escalation" / "planted.py").write_text("from config import middleware\n")
    result = lint_imports(tree)
    assert result.returncode != 0
    assert "escalation.planted -> config.middleware" in result.stdout


def test_workshops_importing_monitoring_breaks_the_contract(tmp_path):
    tree = copy_of_the_project(tmp_path)
    (tree / "workshops" / "planted.py").write_text("import monitoring.models\n")
    result = lint_imports(tree)
    assert result.returncode != 0
    assert "workshops.planted -> monitoring.models" in result.stdout
