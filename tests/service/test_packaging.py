"""The Lambda package's requirements.txt agrees with pyproject.toml, and the handler
module is the thin re-export of the service's one handler."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]


def test_requirements_txt_matches_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = [Requirement(r) for r in project["dependencies"]]
    declared += [Requirement(r) for r in project["optional-dependencies"]["service"]
                 if not r.startswith("rich")]  # rich: command line only
    pinned = {}
    for line in (ROOT / "handlers" / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            requirement = Requirement(line)
            pinned[requirement.name] = requirement
    assert set(pinned) == {r.name for r in declared}
    for requirement in declared:
        [spec] = list(pinned[requirement.name].specifier)
        assert spec.operator == "==", f"pin {requirement.name} exactly"
        assert requirement.specifier.contains(spec.version), (requirement, spec.version)


def test_handler_module_is_the_service_handler(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SESSIONS_BUCKET", "unused-by-this-test")
    import handlers.app
    from synaptic_s3.service import lambda_handler

    assert handlers.app.handler is lambda_handler.handler
