"""SnapStart in template.yaml: off by default, one edit to opt in (docs/service.md);
and the init's environment (no pydantic plugin discovery).

The API functions publish versions behind an alias, which API Gateway invokes, so a
snapshot (taken of published versions only) serves the routes once SnapStart is on;
turning it on must publish new versions at once (SAM names a version after what it
hashes), not wait for the next code change. The scheduled sweeper never uses it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.infra import cfn

API_FUNCTIONS = [f"{mode}{level}Function" for mode in ("Iam", "Jwt")
                 for level in ("Read", "Write", "Delete")]


def _opted_in() -> dict[str, Any]:
    template = cfn.load_template()
    template["Globals"]["Function"]["SnapStart"]["ApplyOn"] = "PublishedVersions"
    return cfn.translate({"IdleSessionDays": "30"}, template)


@pytest.fixture(scope="module")
def default() -> dict[str, Any]:
    return cfn.translate({"IdleSessionDays": "30"})


@pytest.fixture(scope="module")
def opted_in() -> dict[str, Any]:
    return _opted_in()


def _versions(translated: dict[str, Any]) -> dict[str, str]:
    """Function logical id -> the logical id of its published version."""
    return {r["Properties"]["FunctionName"]["Ref"]: logical_id
            for logical_id, r in translated["Resources"].items()
            if r["Type"] == "AWS::Lambda::Version"}


def test_snapstart_is_off_by_default(default: dict[str, Any]) -> None:
    for function_id in [*API_FUNCTIONS, "SweeperFunction"]:
        snap = default["Resources"][function_id]["Properties"]["SnapStart"]
        assert snap == {"ApplyOn": "None"}, function_id


def test_the_template_runs_a_python_that_supports_snapstart(default: dict[str, Any]) -> None:
    for function_id in API_FUNCTIONS:
        runtime = default["Resources"][function_id]["Properties"]["Runtime"]
        version = tuple(int(part) for part in runtime.removeprefix("python").split("."))
        assert version >= (3, 12), function_id


def test_every_api_function_is_invoked_through_its_published_alias(
    default: dict[str, Any],
) -> None:
    versions = _versions(default)
    for function_id in API_FUNCTIONS:
        alias = default["Resources"][f"{function_id}Aliaslive"]
        assert alias["Type"] == "AWS::Lambda::Alias"
        assert alias["Properties"]["FunctionName"] == {"Ref": function_id}
        assert alias["Properties"]["FunctionVersion"] == {
            "Fn::GetAtt": [versions[function_id], "Version"]}


def test_opting_in_snapshots_the_api_functions_only(opted_in: dict[str, Any]) -> None:
    for function_id in API_FUNCTIONS:
        snap = opted_in["Resources"][function_id]["Properties"]["SnapStart"]
        assert snap == {"ApplyOn": "PublishedVersions"}, function_id
    assert opted_in["Resources"]["SweeperFunction"]["Properties"]["SnapStart"] == {
        "ApplyOn": "None"}


def test_opting_in_publishes_new_versions_at_once(
    default: dict[str, Any], opted_in: dict[str, Any],
) -> None:
    before, after = _versions(default), _versions(opted_in)
    for function_id in API_FUNCTIONS:
        assert after[function_id] != before[function_id], function_id


def test_every_function_skips_pydantic_plugin_discovery(default: dict[str, Any]) -> None:
    for function_id in [*API_FUNCTIONS, "SweeperFunction"]:
        variables = default["Resources"][function_id]["Properties"]["Environment"]["Variables"]
        assert variables["PYDANTIC_DISABLE_PLUGINS"] == "__all__", function_id
