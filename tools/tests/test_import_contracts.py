"""The generated import-linter contracts hold for a clean layout and break on each violation."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from import_contracts import discover, render  # the tool is a script, not a package

LAYERS = ("entrypoints", "bootstrap", "config", "adapters", "service_layer", "domain")


def _package(root: Path, group: str, name: str, modules: dict[str, str]) -> None:
    package = root / group / name.removeprefix("mandi_") / "src" / name
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    for module, source in modules.items():
        (package / f"{module}.py").write_text(source)


def _workspace(root: Path, *, extra: dict[tuple[str, str], str] | None = None) -> Path:
    """Two libraries and two services laid out as STYLE.md says, plus the given module bodies."""
    _package(root, "libs", "mandi_config", {"settings": ""})
    _package(root, "libs", "mandi_db", {"engine": "import mandi_config.settings\n"})
    for service in ("mandi_alpha", "mandi_beta"):
        bodies = dict.fromkeys(LAYERS, "")
        bodies["entrypoints"] = f"import {service}.bootstrap\n"
        bodies["adapters"] = f"import {service}.domain\nimport mandi_db.engine\n"
        _package(root, "services", service, bodies)
    for (package, module), source in (extra or {}).items():
        group = "libs" if package in {"mandi_config", "mandi_db"} else "services"
        path = root / group / package.removeprefix("mandi_") / "src" / package / f"{module}.py"
        path.write_text(source)
    return root


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    config = root / "importlinter.ini"
    config.write_text(render(discover(root)))
    sources = [str(p) for p in root.glob("*/*/src")]
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(sources)}
    return subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--config", str(config), "--no-cache"],
        capture_output=True,
        text=True,
        cwd=root,
        env=environment,
        check=False,
    )


def test_a_clean_workspace_keeps_every_contract(tmp_path: Path) -> None:
    result = _lint(_workspace(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Services never import each other KEPT" in result.stdout
    assert "mandi_alpha imports downwards only KEPT" in result.stdout


@pytest.mark.parametrize(
    ("violation", "broken"),
    [
        (
            (("mandi_db", "engine"), "import mandi_alpha.domain\n"),
            "Libraries never import services",
        ),
        (
            (("mandi_alpha", "adapters"), "import mandi_beta.domain\n"),
            "Services never import each other",
        ),
        (
            (("mandi_alpha", "domain"), "import fastapi\n"),
            "mandi_alpha's domain imports no framework",
        ),
        (
            (("mandi_alpha", "domain"), "import mandi_alpha.adapters\n"),
            "mandi_alpha imports downwards only",
        ),
        (
            (("mandi_config", "settings"), "import mandi_db.engine\n"),
            "Libraries import only the layers",
        ),
    ],
)
def test_each_violation_breaks_its_contract(
    tmp_path: Path, violation: tuple[tuple[str, str], str], broken: str
) -> None:
    place, source = violation
    result = _lint(_workspace(tmp_path, extra={place: source}))
    assert result.returncode != 0
    assert f"{broken}" in result.stdout, result.stdout
    assert "BROKEN" in result.stdout
