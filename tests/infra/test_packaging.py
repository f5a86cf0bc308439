"""The Lambda artifact's recipe agrees with template.yaml: the functions' CodeUri
(handlers/, with its requirements.txt) and the Makefile that `sam build` runs for them
(infra/lambda/, the functions' Metadata ContextPath)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.infra import cfn
from tests.infra.pysource import resolve_definition

ARCHITECTURE_PLATFORMS = {"arm64": "aarch64", "x86_64": "x86_64"}


@pytest.fixture(scope="module")
def make_config() -> dict[str, str]:
    return cfn.make_config()


@pytest.fixture(scope="module")
def template_functions() -> dict[str, dict[str, Any]]:
    template = cfn.load_template()
    return {
        logical_id: resource
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


def function_setting(logical_id: str, name: str) -> Any:
    """A function property, from the function itself or from Globals."""
    template = cfn.load_template()
    own = template["Resources"][logical_id].get("Properties", {})
    return own.get(name, template["Globals"]["Function"].get(name))


# ------------------------------------------------------------- requirements.txt
# (tests/service/test_packaging.py holds handlers/requirements.txt to pyproject.toml)


def test_artifact_installs_the_requirements_of_the_code_uri(
    template_functions: dict[str, dict[str, Any]], make_config: dict[str, str]
) -> None:
    for logical_id in template_functions:
        code_uri = cfn.REPO / function_setting(logical_id, "CodeUri")
        assert Path(make_config["REQUIREMENTS"]) == code_uri / "requirements.txt", logical_id


def test_code_uri_is_a_small_directory_not_the_repository(
    template_functions: dict[str, dict[str, Any]],
) -> None:
    """sam build copies the CodeUri; the repository root would bring .venv and tests."""
    for logical_id in template_functions:
        code_uri = (cfn.REPO / function_setting(logical_id, "CodeUri")).resolve()
        assert code_uri != cfn.REPO, logical_id
        assert code_uri.is_relative_to(cfn.REPO), logical_id
        assert not (code_uri / ".venv").exists(), logical_id


# ------------------------------------------------------------- template <-> Makefile


def test_every_function_is_built_by_the_lambda_makefile(
    template_functions: dict[str, dict[str, Any]], make_config: dict[str, str]
) -> None:
    for logical_id, function in template_functions.items():
        assert function["Metadata"]["BuildMethod"] == "makefile", logical_id
        assert cfn.REPO / function["Metadata"]["ContextPath"] == cfn.LAMBDA_DIR, logical_id
    assert set(make_config["FUNCTIONS"].split()) == set(template_functions)


def test_makefile_builds_for_the_functions_python(
    template_functions: dict[str, dict[str, Any]], make_config: dict[str, str]
) -> None:
    for logical_id in template_functions:
        runtime = function_setting(logical_id, "Runtime")
        assert runtime == f"python{make_config['LAMBDA_PYTHON_VERSION']}", logical_id


def test_makefile_builds_for_the_functions_architecture(
    template_functions: dict[str, dict[str, Any]], make_config: dict[str, str]
) -> None:
    for logical_id in template_functions:
        (architecture,) = function_setting(logical_id, "Architectures")
        platform = ARCHITECTURE_PLATFORMS[architecture]
        assert make_config["LAMBDA_PLATFORM"].endswith(f"_{platform}"), logical_id


def test_artifact_ships_every_module_the_handler_is_defined_in(
    template_functions: dict[str, dict[str, Any]], make_config: dict[str, str]
) -> None:
    shipped = make_config["SOURCES"].split()
    left_out = make_config["LEFT_OUT"].split()
    for logical_id in template_functions:
        module, _, name = function_setting(logical_id, "Handler").rpartition(".")
        path, _ = resolve_definition(cfn.REPO, module, name)
        relative = path.relative_to(cfn.REPO).as_posix()
        assert relative.split("/")[0] in shipped, (logical_id, relative)
        assert not any(relative.startswith(f"{prefix}/") for prefix in left_out), relative
