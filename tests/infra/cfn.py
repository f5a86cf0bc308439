"""A small CloudFormation evaluator for the template tests.

``translate`` runs the SAM transform exactly as CloudFormation does (aws-sam-translator),
``Stack`` then resolves what one set of parameter values would deploy: conditions are
evaluated, ``Fn::If`` branches chosen, ``AWS::NoValue`` dropped and the resources whose
condition is false left out. Intrinsics that only CloudFormation can resolve (``Ref`` to a
resource, ``Fn::GetAtt``, ``Fn::Sub``) are kept as they are.
"""

from __future__ import annotations

import copy
import re
import subprocess
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import boto3
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator
from samtranslator.yaml_helper import yaml_parse

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "template.yaml"
LAMBDA_DIR = REPO / "infra" / "lambda"
NO_VALUE = {"Ref": "AWS::NoValue"}
PACKAGED_CODE_URI = "s3://example-artifacts/synaptic-s3.zip"
"""What ``sam package`` puts in place of the local CodeUri before the transform runs."""


@cache
def _parsed() -> dict[str, Any]:
    template: dict[str, Any] = yaml_parse(TEMPLATE.read_text())
    return template


def load_template() -> dict[str, Any]:
    """template.yaml as CloudFormation reads it (short-form intrinsics included); a
    fresh copy each time, so callers may change it."""
    return copy.deepcopy(_parsed())


def translate(parameters: Mapping[str, str] | None = None,
              template: dict[str, Any] | None = None) -> dict[str, Any]:
    """The CloudFormation template the SAM transform makes of template.yaml (or of
    ``template``, an edited copy of what :func:`load_template` returns)."""
    template = load_template() if template is None else template
    template["Globals"]["Function"]["CodeUri"] = PACKAGED_CODE_URI
    translator = Translator(
        managed_policy_map=None,
        sam_parser=Parser(),
        boto_session=boto3.Session(region_name="eu-west-1"),
    )
    translated: dict[str, Any] = translator.translate(
        template, dict(parameters or {}), get_managed_policy_map=lambda: {}
    )
    return translated


def parameter_values(template: Mapping[str, Any], given: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, spec in template.get("Parameters", {}).items():
        raw = str(given.get(name, spec.get("Default", "")))
        values[name] = raw.split(",") if spec["Type"] == "CommaDelimitedList" else raw
    unknown = set(given) - set(values)
    assert not unknown, f"not parameters of the template: {unknown}"
    return values


class Stack:
    """What one deployment of a (translated) template with these parameters contains."""

    def __init__(self, template: Mapping[str, Any], parameters: Mapping[str, str]) -> None:
        self.template = template
        self.parameters = parameter_values(template, parameters)
        self.conditions: dict[str, bool] = {}
        for name in template.get("Conditions", {}):
            self._condition(name)
        self.resources: dict[str, dict[str, Any]] = {
            logical_id: self.resolve(resource)
            for logical_id, resource in template["Resources"].items()
            if self.conditions.get(resource.get("Condition", ""), True)
        }

    def _condition(self, name: str) -> bool:
        if name not in self.conditions:
            self.conditions[name] = bool(self.evaluate(self.template["Conditions"][name]))
        return self.conditions[name]

    def evaluate(self, node: Any) -> Any:
        if not isinstance(node, dict) or len(node) != 1:
            return node
        ((function, argument),) = node.items()
        if function == "Ref":
            return self.parameters[argument]
        if function == "Condition":
            return self._condition(argument)
        if function == "Fn::Equals":
            left, right = (self.evaluate(value) for value in argument)
            return str(left) == str(right)
        if function == "Fn::Not":
            return not self.evaluate(argument[0])
        if function == "Fn::And":
            return all(self.evaluate(value) for value in argument)
        if function == "Fn::Or":
            return any(self.evaluate(value) for value in argument)
        if function == "Fn::Contains":
            values, value = (self.evaluate(item) for item in argument)
            return value in values
        raise AssertionError(f"cannot evaluate {function} in a condition")

    def resolve(self, node: Any) -> Any:
        """``node`` with every Fn::If decided and every AWS::NoValue removed."""
        if isinstance(node, dict):
            if set(node) == {"Fn::If"}:
                name, when_true, when_false = node["Fn::If"]
                return self.resolve(when_true if self._condition(name) else when_false)
            resolved = {key: self.resolve(value) for key, value in node.items()}
            return {key: value for key, value in resolved.items() if value != NO_VALUE}
        if isinstance(node, list):
            return [value for value in map(self.resolve, node) if value != NO_VALUE]
        return node

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {
            logical_id: resource
            for logical_id, resource in self.resources.items()
            if resource["Type"] == resource_type
        }

    def only(self, resource_type: str) -> tuple[str, dict[str, Any]]:
        found = self.of_type(resource_type)
        assert len(found) == 1, f"expected one {resource_type}, found {sorted(found)}"
        ((logical_id, resource),) = found.items()
        return logical_id, resource


def integration_target(operation: Mapping[str, Any]) -> str:
    """The logical id of the function an OpenAPI operation's Lambda proxy integration
    invokes (SAM writes ``${FunctionId.Arn}`` into the integration URI, or, for a
    function with ``AutoPublishAlias``, ``${FunctionIdAlias<name>}``: its alias)."""
    uri = operation["x-amazon-apigateway-integration"]["uri"]["Fn::Sub"]
    match = re.search(r"\$\{(\w+)\.Arn\}", uri) or re.search(r"\$\{(\w+)Alias\w+\}", uri)
    assert match, uri
    return match.group(1)


def failed_rule_assertions(template: Mapping[str, Any], parameters: Mapping[str, str]) -> list[str]:
    """The AssertDescription of every template rule assertion these parameters break
    (CloudFormation refuses to create or update the stack with them)."""
    stack = Stack({**template, "Resources": {}}, parameters)
    failed = []
    for rule in template.get("Rules", {}).values():
        if "RuleCondition" in rule and not stack.evaluate(rule["RuleCondition"]):
            continue
        failed += [assertion["AssertDescription"] for assertion in rule["Assertions"]
                   if not stack.evaluate(assertion["Assert"])]
    return failed


def policy_statements(stack: Stack) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every statement of every IAM and bucket policy in the stack, with where it is."""
    for logical_id, resource in stack.resources.items():
        properties = resource.get("Properties", {})
        documents: list[tuple[str, Any]] = []
        if resource["Type"] == "AWS::IAM::Role":
            for policy in properties.get("Policies", []):
                documents.append((f"{logical_id}/{policy['PolicyName']}", policy["PolicyDocument"]))
        elif resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy",
                                  "AWS::S3::BucketPolicy"):
            documents.append((logical_id, properties["PolicyDocument"]))
        for where, document in documents:
            statements = document["Statement"]
            for statement in statements if isinstance(statements, list) else [statements]:
                yield where, statement


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def make_config() -> dict[str, str]:
    """The packaging variables of infra/lambda/Makefile (its ``show-config`` target)."""
    output = subprocess.run(
        ["make", "--no-print-directory", "-s", "-f", str(LAMBDA_DIR / "Makefile"), "show-config"],
        check=True, capture_output=True, text=True, cwd=REPO,
    ).stdout
    config: dict[str, str] = {}
    for line in output.splitlines():
        key, _, value = line.partition("=")
        config[key.strip()] = value.strip()
    return config
