"""template.yaml, as CloudFormation would deploy it: translated by the SAM transform
(aws-sam-translator), then resolved for a set of parameter values (tests/infra/cfn.py).

The contract it is held to: every route of the HTTP API is authorized (AWS_IAM by default,
the JWT authorizer with AuthMode=jwt) and reaches the function of its access level; each
function's role grants only the S3 actions of its routes, on the sessions prefix, with no
wildcard action or resource; the bucket is encrypted, private, TLS-only and retained.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.infra import cfn
from tests.infra.pysource import resolve_definition

JWT = {"AuthMode": "jwt", "JwtIssuer": "https://issuer.example.com",
       "JwtAudience": "synaptic-app"}
KMS_KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
MODES = {"iam": {}, "jwt": JWT}

# The routes of the issue, and the access level (function) each belongs to.
ROUTES = {
    ("POST", "/sessions"): "Write",
    ("GET", "/sessions"): "Read",
    ("GET", "/sessions/{id}"): "Read",
    ("DELETE", "/sessions/{id}"): "Delete",
    ("POST", "/sessions/{id}/messages"): "Write",
    ("GET", "/sessions/{id}/messages"): "Read",
    ("DELETE", "/sessions/{id}/messages"): "Delete",
    ("GET", "/sessions/{id}/summary"): "Read",
    ("PUT", "/sessions/{id}/summary"): "Write",
    ("POST", "/sessions/{id}/checkpoints"): "Write",
    ("GET", "/sessions/{id}/checkpoints"): "Read",
    ("GET", "/sessions/{id}/checkpoints/latest"): "Read",
    ("GET", "/sessions/{id}/checkpoints/{checkpoint_id}"): "Read",
    # issue 13: leases (a release writes a "released" body: the write role), forks, pruning
    ("POST", "/sessions/{id}/lease"): "Write",
    ("PUT", "/sessions/{id}/lease/{token}"): "Write",
    ("DELETE", "/sessions/{id}/lease/{token}"): "Write",
    ("POST", "/sessions/{id}/fork"): "Write",
    ("DELETE", "/sessions/{id}/checkpoints"): "Delete",
}
S3_ACTIONS = {
    "Read": {"s3:GetObject", "s3:ListBucket"},
    "Write": {"s3:GetObject", "s3:ListBucket", "s3:PutObject"},
    "Delete": {"s3:GetObject", "s3:ListBucket", "s3:DeleteObject"},
}
KMS_ACTIONS = {
    "Read": {"kms:Decrypt"},
    "Write": {"kms:Decrypt", "kms:GenerateDataKey"},
    "Delete": {"kms:Decrypt"},
}
HANDLER_ENVIRONMENT = {
    "SESSIONS_BUCKET", "SESSIONS_PREFIX", "ISOLATION_MODE", "MAX_BODY_BYTES", "LOG_LEVEL",
    "POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "SSE_MODE",
}
API_GATEWAY_TIMEOUT_SECONDS = 30


@pytest.fixture(scope="module")
def translated() -> dict[str, Any]:
    return cfn.translate()


def stack(translated: dict[str, Any], **parameters: str) -> cfn.Stack:
    return cfn.Stack(translated, parameters)


@pytest.fixture(scope="module", params=sorted(MODES))
def deployed(request: pytest.FixtureRequest, translated: dict[str, Any]) -> cfn.Stack:
    """The stack of each AuthMode."""
    return cfn.Stack(translated, MODES[request.param])


def functions(stack: cfn.Stack) -> dict[str, dict[str, Any]]:
    return stack.of_type("AWS::Lambda::Function")


def access_level(stack: cfn.Stack, function_id: str) -> str:
    """Read / Write / Delete: the role the function runs with says which."""
    role = stack.resources[function_id]["Properties"]["Role"]["Fn::GetAtt"][0]
    return str(role).removesuffix("Role")


def operations(stack: cfn.Stack) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(METHOD, path, operation) of every route in the deployed API's OpenAPI body."""
    _, api = stack.only("AWS::ApiGatewayV2::Api")
    for path, item in api["Properties"]["Body"]["paths"].items():
        for method, operation in item.items():
            yield method.upper(), path, operation


def arn_text(value: Any) -> str:
    """A resource ARN as text, with intrinsics shown as ${...} placeholders."""
    if isinstance(value, str):
        return value
    if "Fn::Sub" in value:
        sub = value["Fn::Sub"]
        return sub if isinstance(sub, str) else sub[0]
    if "Fn::GetAtt" in value:
        resource, attribute = value["Fn::GetAtt"]
        return f"${{{resource}.{attribute}}}"
    if "Ref" in value:
        return f"${{{value['Ref']}}}"
    raise AssertionError(f"unexpected resource value {value!r}")


def allow_statements(stack: cfn.Stack) -> Iterator[tuple[str, dict[str, Any]]]:
    for where, statement in cfn.policy_statements(stack):
        if statement["Effect"] == "Allow":
            yield where, statement


def role_actions(stack: cfn.Stack, role_id: str, service: str) -> set[str]:
    return {
        action
        for where, statement in allow_statements(stack)
        if where.startswith(f"{role_id}/")
        for action in cfn.as_list(statement["Action"])
        if action.startswith(f"{service}:")
    }


# -------------------------------------------------------------------------- the API


def test_each_auth_mode_deploys_one_api_with_three_functions(deployed: cfn.Stack) -> None:
    deployed.only("AWS::ApiGatewayV2::Api")
    levels = sorted(access_level(deployed, function_id) for function_id in functions(deployed))
    assert levels == ["Delete", "Read", "Write"]


def test_api_serves_exactly_the_routes_of_the_contract(deployed: cfn.Stack) -> None:
    served = {(method, path) for method, path, _ in operations(deployed)}
    assert served == set(ROUTES)


def test_every_route_reaches_the_function_of_its_access_level(deployed: cfn.Stack) -> None:
    for method, path, operation in operations(deployed):
        target = cfn.integration_target(operation)
        assert target in functions(deployed), (method, path, target)
        assert access_level(deployed, target) == ROUTES[(method, path)], (method, path)


def test_every_route_uses_payload_format_2(deployed: cfn.Stack) -> None:
    for method, path, operation in operations(deployed):
        integration = operation["x-amazon-apigateway-integration"]
        assert (integration["type"], integration["payloadFormatVersion"]) == \
            ("aws_proxy", "2.0"), (method, path)


@pytest.mark.parametrize(("mode", "authorizer"), [("iam", "AWS_IAM"), ("jwt", "JwtAuthorizer")])
def test_every_route_has_the_authorizer_of_the_auth_mode(
    translated: dict[str, Any], mode: str, authorizer: str
) -> None:
    deployed = cfn.Stack(translated, MODES[mode])
    for method, path, operation in operations(deployed):
        assert operation.get("security") == [{authorizer: []}], (method, path)


def test_iam_mode_signs_requests_with_sigv4(translated: dict[str, Any]) -> None:
    _, api = stack(translated).only("AWS::ApiGatewayV2::Api")
    scheme = api["Properties"]["Body"]["components"]["securitySchemes"]["AWS_IAM"]
    assert scheme["x-amazon-apigateway-authtype"] == "awsSigv4"


def test_jwt_mode_checks_issuer_and_audience_from_the_parameters(
    translated: dict[str, Any],
) -> None:
    _, api = stack(translated, **JWT).only("AWS::ApiGatewayV2::Api")
    scheme = api["Properties"]["Body"]["components"]["securitySchemes"]["JwtAuthorizer"]
    authorizer = scheme["x-amazon-apigateway-authorizer"]
    assert authorizer["type"] == "jwt"
    assert authorizer["identitySource"] == "$request.header.Authorization"
    assert authorizer["jwtConfiguration"] == {"issuer": {"Ref": "JwtIssuer"},
                                              "audience": {"Ref": "JwtAudience"}}


@pytest.mark.parametrize(("parameters", "refused"), [
    ({}, []),
    (JWT, []),
    ({"AuthMode": "jwt"}, ["JwtIssuer", "JwtAudience"]),
    ({**JWT, "JwtIssuer": ""}, ["JwtIssuer"]),
    ({**JWT, "JwtAudience": ""}, ["JwtAudience"]),
])
def test_jwt_mode_cannot_be_deployed_without_issuer_and_audience(
    parameters: dict[str, str], refused: list[str]
) -> None:
    failed = cfn.failed_rule_assertions(cfn.load_template(), parameters)
    assert [next(name for name in ("JwtIssuer", "JwtAudience") if name in message)
            for message in failed] == refused


def test_api_throttles_every_route(deployed: cfn.Stack) -> None:
    _, stage = deployed.only("AWS::ApiGatewayV2::Stage")
    settings = stage["Properties"]["DefaultRouteSettings"]
    assert settings == {"ThrottlingRateLimit": {"Ref": "ThrottlingRateLimit"},
                        "ThrottlingBurstLimit": {"Ref": "ThrottlingBurstLimit"}}


def test_api_writes_json_access_logs_to_a_log_group_with_retention(deployed: cfn.Stack) -> None:
    _, stage = deployed.only("AWS::ApiGatewayV2::Stage")
    access_logs = stage["Properties"]["AccessLogSettings"]
    log_group = deployed.resources[access_logs["DestinationArn"]["Fn::GetAtt"][0]]
    assert log_group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    fields = json.loads(access_logs["Format"])
    assert {"requestId", "status", "routeKey", "caller"} <= set(fields)


def test_api_fails_deployment_on_openapi_warnings(deployed: cfn.Stack) -> None:
    _, api = deployed.only("AWS::ApiGatewayV2::Api")
    assert api["Properties"]["FailOnWarnings"] is True


# -------------------------------------------------------------------------- functions


def test_functions_run_python_313_on_arm64(deployed: cfn.Stack) -> None:
    for function_id, function in functions(deployed).items():
        properties = function["Properties"]
        assert properties["Runtime"] in ("python3.12", "python3.13"), function_id
        assert properties["Architectures"] == ["arm64"], function_id


def test_functions_time_out_before_the_api_does(deployed: cfn.Stack) -> None:
    for function_id, function in functions(deployed).items():
        assert function["Properties"]["Timeout"] < API_GATEWAY_TIMEOUT_SECONDS, function_id
    for method, path, operation in operations(deployed):
        timeout_ms = operation["x-amazon-apigateway-integration"].get("timeoutInMillis", 30_000)
        assert timeout_ms <= API_GATEWAY_TIMEOUT_SECONDS * 1000, (method, path)


def test_functions_log_json_to_their_own_log_group_with_retention(deployed: cfn.Stack) -> None:
    log_groups = set()
    for function_id, function in functions(deployed).items():
        logging = function["Properties"]["LoggingConfig"]
        assert logging["LogFormat"] == "JSON", function_id
        assert logging["ApplicationLogLevel"] == {"Ref": "LogLevel"}, function_id
        log_group_id = logging["LogGroup"]["Ref"]
        log_group = deployed.resources[log_group_id]
        assert log_group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
        log_groups.add(log_group_id)
    assert len(log_groups) == len(functions(deployed))


def test_functions_get_the_handler_environment(deployed: cfn.Stack) -> None:
    for function_id, function in functions(deployed).items():
        variables = function["Properties"]["Environment"]["Variables"]
        assert set(variables) >= HANDLER_ENVIRONMENT, function_id
        assert variables["SESSIONS_BUCKET"] == {"Ref": "SessionsBucket"}
        assert variables["SESSIONS_PREFIX"] == {"Ref": "SessionsPrefix"}


@pytest.mark.parametrize(("parameters", "isolation"), [
    ({}, "none"),
    (JWT, "jwt"),
    ({**JWT, "IsolateUsers": "false"}, "none"),
])
def test_isolation_mode_comes_from_the_template(
    translated: dict[str, Any], parameters: dict[str, str], isolation: str
) -> None:
    deployed = cfn.Stack(translated, parameters)
    for function in functions(deployed).values():
        assert function["Properties"]["Environment"]["Variables"]["ISOLATION_MODE"] == isolation


@pytest.mark.parametrize(("parameters", "sse"), [
    ({}, {"SSE_MODE": "AES256"}),
    ({"KmsKeyArn": KMS_KEY}, {"SSE_MODE": "aws:kms", "SSE_KMS_KEY_ID": {"Ref": "KmsKeyArn"}}),
])
def test_functions_write_with_the_bucket_encryption(
    translated: dict[str, Any], parameters: dict[str, str], sse: dict[str, Any]
) -> None:
    deployed = cfn.Stack(translated, parameters)
    for function in functions(deployed).values():
        variables = function["Properties"]["Environment"]["Variables"]
        assert {key: value for key, value in variables.items() if key.startswith("SSE_")} == sse


def test_every_function_handler_is_a_function_in_the_repository(deployed: cfn.Stack) -> None:
    for function_id, function in functions(deployed).items():
        module, _, name = function["Properties"]["Handler"].rpartition(".")
        path, _ = resolve_definition(cfn.REPO, module, name)  # raises when it is not
        assert path.is_relative_to(cfn.REPO), function_id


def test_iam_and_jwt_functions_differ_only_in_their_api(translated: dict[str, Any]) -> None:
    template = cfn.load_template()
    for level in ("Read", "Write", "Delete"):
        iam = json.dumps(template["Resources"][f"Iam{level}Function"], sort_keys=True)
        jwt = json.dumps(template["Resources"][f"Jwt{level}Function"], sort_keys=True)
        assert jwt == iam.replace("IamHttpApi", "JwtHttpApi").replace("UseIamAuth", "UseJwtAuth")


# -------------------------------------------------------------------------- IAM


def test_no_allowed_action_is_a_wildcard(deployed: cfn.Stack) -> None:
    for where, statement in allow_statements(deployed):
        for action in cfn.as_list(statement["Action"]):
            assert "*" not in action, (where, action)
        assert "NotAction" not in statement, where


def test_no_allowed_resource_is_a_wildcard(deployed: cfn.Stack) -> None:
    """A '*' may only end an ARN that names a bucket prefix or a log group: never
    '*' alone, never in the service, region, account or bucket part."""
    for where, statement in allow_statements(deployed):
        assert "NotResource" not in statement, where
        for resource in cfn.as_list(statement["Resource"]):
            text = arn_text(resource)
            assert text != "*", where
            assert "*" not in text[:-1], (where, text)


def test_s3_objects_are_granted_only_under_the_sessions_prefix(deployed: cfn.Stack) -> None:
    for where, statement in allow_statements(deployed):
        actions = cfn.as_list(statement["Action"])
        if any(action.startswith("s3:") and action != "s3:ListBucket" for action in actions):
            resources = [arn_text(resource) for resource in cfn.as_list(statement["Resource"])]
            assert resources == ["${SessionsBucket.Arn}/${SessionsPrefix}/*"], where


def test_listing_is_granted_only_under_the_sessions_prefix(deployed: cfn.Stack) -> None:
    """s3:ListBucket is what turns a missing key into 404 instead of 403; S3 matches
    a GetObject's key against the s3:prefix condition when it decides between them."""
    for where, statement in allow_statements(deployed):
        if "s3:ListBucket" in cfn.as_list(statement["Action"]):
            assert cfn.as_list(statement["Action"]) == ["s3:ListBucket"], where
            assert arn_text(statement["Resource"]) == "${SessionsBucket.Arn}", where
            assert statement["Condition"] == {
                "StringLike": {"s3:prefix": {"Fn::Sub": "${SessionsPrefix}/*"}}}, where


@pytest.mark.parametrize("level", ["Read", "Write", "Delete"])
def test_each_role_has_exactly_the_s3_actions_of_its_routes(
    deployed: cfn.Stack, level: str
) -> None:
    assert role_actions(deployed, f"{level}Role", "s3") == S3_ACTIONS[level]


def test_functions_write_logs_only_to_their_own_log_group(deployed: cfn.Stack) -> None:
    for function in functions(deployed).values():
        properties = function["Properties"]
        role_id = properties["Role"]["Fn::GetAtt"][0]
        log_group_id = properties["LoggingConfig"]["LogGroup"]["Ref"]
        for where, statement in allow_statements(deployed):
            if where.startswith(f"{role_id}/") and "logs:PutLogEvents" in statement["Action"]:
                assert statement["Resource"] == {"Fn::GetAtt": [log_group_id, "Arn"]}
        assert role_actions(deployed, role_id, "logs") == {"logs:CreateLogStream",
                                                           "logs:PutLogEvents"}


def test_functions_assume_their_roles_only_as_lambda(deployed: cfn.Stack) -> None:
    for role_id, role in deployed.of_type("AWS::IAM::Role").items():
        (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert statement["Principal"] == {"Service": "lambda.amazonaws.com"}, role_id
        assert "ManagedPolicyArns" not in role["Properties"], role_id


def test_without_a_kms_key_no_role_may_use_kms(deployed: cfn.Stack) -> None:
    for role_id in deployed.of_type("AWS::IAM::Role"):
        assert role_actions(deployed, role_id, "kms") == set()


@pytest.mark.parametrize("level", ["Read", "Write", "Delete"])
def test_with_a_kms_key_each_role_may_use_that_key_through_s3_only(
    translated: dict[str, Any], level: str
) -> None:
    deployed = stack(translated, KmsKeyArn=KMS_KEY)
    assert role_actions(deployed, f"{level}Role", "kms") == KMS_ACTIONS[level]
    for where, statement in allow_statements(deployed):
        if where.startswith(f"{level}Role/") and str(statement["Action"]).startswith("['kms"):
            assert statement["Resource"] == {"Ref": "KmsKeyArn"}
            assert statement["Condition"] == {"StringEquals": {"kms:ViaService": {
                "Fn::Sub": "s3.${AWS::Region}.${AWS::URLSuffix}"}}}


# -------------------------------------------------------------------------- the bucket


def bucket(stack: cfn.Stack) -> dict[str, Any]:
    return stack.only("AWS::S3::Bucket")[1]


def test_bucket_is_retained_when_the_stack_is_deleted_or_replaces_it(
    deployed: cfn.Stack,
) -> None:
    assert bucket(deployed)["DeletionPolicy"] == "Retain"
    assert bucket(deployed)["UpdateReplacePolicy"] == "Retain"


def test_bucket_encrypts_with_sse_s3_by_default(translated: dict[str, Any]) -> None:
    encryption = bucket(stack(translated))["Properties"]["BucketEncryption"]
    assert encryption["ServerSideEncryptionConfiguration"] == [
        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]


def test_bucket_encrypts_with_the_kms_key_and_bucket_keys_when_given_one(
    translated: dict[str, Any],
) -> None:
    encryption = bucket(stack(translated, KmsKeyArn=KMS_KEY))["Properties"]["BucketEncryption"]
    assert encryption["ServerSideEncryptionConfiguration"] == [{
        "ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms",
                                          "KMSMasterKeyID": {"Ref": "KmsKeyArn"}},
        "BucketKeyEnabled": True,
    }]


def test_bucket_blocks_every_kind_of_public_access(deployed: cfn.Stack) -> None:
    block = bucket(deployed)["Properties"]["PublicAccessBlockConfiguration"]
    assert block == {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                     "IgnorePublicAcls": True, "RestrictPublicBuckets": True}


def test_bucket_disables_acls(deployed: cfn.Stack) -> None:
    ownership = bucket(deployed)["Properties"]["OwnershipControls"]
    assert ownership == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}


def test_bucket_refuses_requests_without_tls_12(deployed: cfn.Stack) -> None:
    _, policy = deployed.only("AWS::S3::BucketPolicy")
    denials = {
        json.dumps(statement["Condition"], sort_keys=True): statement
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Effect"] == "Deny"
    }
    insecure = denials[json.dumps({"Bool": {"aws:SecureTransport": "false"}})]
    old_tls = denials[json.dumps({"NumericLessThan": {"s3:TlsVersion": "1.2"}})]
    for statement in (insecure, old_tls):
        assert statement["Principal"] == "*"
        assert statement["Action"] == "s3:*"
        assert [arn_text(r) for r in statement["Resource"]] == [
            "${SessionsBucket.Arn}", "${SessionsBucket.Arn}/*"]


@pytest.mark.parametrize(("enabled", "status"), [("true", "Enabled"), ("false", "Suspended")])
def test_bucket_versioning_is_a_parameter(
    translated: dict[str, Any], enabled: str, status: str
) -> None:
    versioning = bucket(stack(translated, VersioningEnabled=enabled))["Properties"]
    assert versioning["VersioningConfiguration"] == {"Status": status}


def test_bucket_aborts_incomplete_multipart_uploads(deployed: cfn.Stack) -> None:
    rules = bucket(deployed)["Properties"]["LifecycleConfiguration"]["Rules"]
    assert any(rule["Status"] == "Enabled"
               and rule.get("AbortIncompleteMultipartUpload", {}).get("DaysAfterInitiation")
               for rule in rules)


def test_bucket_expires_noncurrent_versions_and_then_their_delete_markers(
    deployed: cfn.Stack,
) -> None:
    rules = bucket(deployed)["Properties"]["LifecycleConfiguration"]["Rules"]
    (rule,) = [rule for rule in rules if "NoncurrentVersionExpiration" in rule]
    assert rule["Status"] == "Enabled"
    assert rule["NoncurrentVersionExpiration"] == {
        "NoncurrentDays": {"Ref": "NoncurrentVersionExpirationDays"}}
    assert rule["ExpiredObjectDeleteMarker"] is True


# -------------------------------------------------------------------------- linting


def test_cfn_lint_reports_nothing() -> None:
    result = subprocess.run(
        [str(Path(sys.executable).with_name("cfn-lint")), str(cfn.TEMPLATE)],
        capture_output=True, text=True, cwd=cfn.REPO,
    )
    assert (result.returncode, result.stdout + result.stderr) == (0, "")
