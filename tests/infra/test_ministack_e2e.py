"""End to end, opt-in: template.yaml deployed to ministack (a local AWS emulator that runs
Python Lambdas without Docker) and driven over HTTP.

Run: ``infra/install-tools.sh ministack && SYNAPTIC_E2E_MINISTACK=1 .venv/bin/pytest
tests/infra/test_ministack_e2e.py`` (about a minute; needs PyPI for the artifact's wheels).

What is real here: ministack's CloudFormation applies the SAM transform to template.yaml
and creates the bucket, the roles, the log groups, the API with its stage and the three
functions (code = the artifact infra/lambda/Makefile builds, for this machine); the
functions run handlers.app.handler with the template's environment against the stack's
own bucket. What is not: ministack 1.5 ignores an HTTP API's OpenAPI ``Body``, which is
where SAM puts the routes, so this test creates the same routes (every method and path of
the translated Body, to the same function, AWS_IAM) with the apigatewayv2 API; and
ministack refuses an unsigned request to an AWS_IAM route but does not verify signatures
or policies. tests/infra/test_template.py covers what the Body and the policies say.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from synaptic_s3.testing.servers import LOOPBACK, free_port
from tests.infra import cfn

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        os.environ.get("SYNAPTIC_E2E_MINISTACK") != "1",
        reason="opt-in: SYNAPTIC_E2E_MINISTACK=1 (infra/install-tools.sh ministack)"),
]

MINISTACK_VENV = cfn.REPO / ".venv-infra" / "ministack"
STACK = "synaptic-e2e"
ARTIFACT_BUCKET = "synaptic-e2e-artifacts"
REGION = "us-east-1"
STARTUP_SECONDS = 60
DEPLOY_SECONDS = 120


def wait_until(ready: Any, seconds: float, what: str) -> Any:
    """Poll ``ready()`` until it returns something truthy, at most ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = ready()
        if result:
            return result
        time.sleep(0.2)
    raise TimeoutError(f"{what} not ready after {seconds} s")


@pytest.fixture(scope="module")
def lambda_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The artifact `sam build` would make, for this machine's platform and for the
    interpreter ministack runs Python functions with (its own, 3.13)."""
    python = MINISTACK_VENV / "bin" / "python"
    if not python.exists():
        pytest.fail(f"{python} is missing: run infra/install-tools.sh ministack")
    artifact = tmp_path_factory.mktemp("artifact")
    subprocess.run(
        ["make", "-s", "--no-print-directory", "-f", str(cfn.LAMBDA_DIR / "Makefile"),
         "artifact", f"ARTIFACTS_DIR={artifact}", f"PYTHON={python}",
         f"LAMBDA_PLATFORM=manylinux2014_{platform.machine()}"],
        check=True, cwd=cfn.REPO, capture_output=True,
    )
    return Path(shutil.make_archive(str(artifact), "zip", artifact))


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log = (tmp_path_factory.mktemp("ministack") / "ministack.log").open("w")
    process = subprocess.Popen(
        [str(MINISTACK_VENV / "bin" / "ministack")],
        env={**os.environ, "GATEWAY_PORT": str(port), "MINISTACK_HOST": "localhost",
             "MINISTACK_REGION": REGION, "LOG_LEVEL": "WARNING"},
        stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://{LOOPBACK}:{port}"

    def healthy() -> bool:
        try:
            with urllib.request.urlopen(f"{url}/_ministack/health", timeout=2):
                return True
        except (urllib.error.URLError, ConnectionError):
            return False

    try:
        wait_until(healthy, STARTUP_SECONDS, "ministack")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def client(endpoint: str, service: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint, region_name=REGION,
                        aws_access_key_id="e2e", aws_secret_access_key="e2e")


@pytest.fixture(scope="module")
def stack(endpoint: str, lambda_zip: Path) -> dict[str, str]:
    """template.yaml deployed with its defaults (AuthMode iam); its outputs."""
    s3 = client(endpoint, "s3")
    s3.create_bucket(Bucket=ARTIFACT_BUCKET)
    s3.upload_file(str(lambda_zip), ARTIFACT_BUCKET, "synaptic-s3.zip")
    template = cfn.load_template()
    template["Globals"]["Function"]["CodeUri"] = f"s3://{ARTIFACT_BUCKET}/synaptic-s3.zip"
    cloudformation = client(endpoint, "cloudformation")
    cloudformation.create_stack(StackName=STACK, TemplateBody=json.dumps(template),
                                Capabilities=["CAPABILITY_IAM"])

    def settled() -> dict[str, Any] | None:
        (described,) = cloudformation.describe_stacks(StackName=STACK)["Stacks"]
        return None if described["StackStatus"].endswith("_IN_PROGRESS") else described

    described = wait_until(settled, DEPLOY_SECONDS, "the stack")
    assert described["StackStatus"] == "CREATE_COMPLETE", described.get("StackStatusReason")
    outputs = {item["OutputKey"]: item["OutputValue"] for item in described["Outputs"]}
    add_routes_from_the_openapi_body(endpoint, outputs["ApiId"])
    return outputs


def add_routes_from_the_openapi_body(endpoint: str, api_id: str) -> None:
    """What API Gateway does with the Body SAM generates and ministack skips: one route
    per method and path, integrated with the function the Body names."""
    deployed = cfn.Stack(cfn.translate(), {})
    _, api = deployed.only("AWS::ApiGatewayV2::Api")
    physical = {
        resource["LogicalResourceId"]: resource["PhysicalResourceId"]
        for resource in client(endpoint, "cloudformation").describe_stack_resources(
            StackName=STACK)["StackResources"]
    }
    lambda_client, gateway = client(endpoint, "lambda"), client(endpoint, "apigatewayv2")
    for path, item in api["Properties"]["Body"]["paths"].items():
        for method, operation in item.items():
            function_arn = lambda_client.get_function(
                FunctionName=physical[cfn.integration_target(operation)]
            )["Configuration"]["FunctionArn"]
            integration = gateway.create_integration(
                ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=function_arn,
                PayloadFormatVersion="2.0")
            gateway.create_route(
                ApiId=api_id, RouteKey=f"{method.upper()} {path}",
                Target=f"integrations/{integration['IntegrationId']}",
                AuthorizationType="AWS_IAM")


def http(endpoint: str, api_id: str, method: str, path: str, body: Any = None,
         *, signed: bool = True) -> tuple[int, Any]:
    """One request to the API, addressed as API Gateway is (by the API's host name) and
    signed with SigV4 for execute-api, as an AWS_IAM caller's is."""
    host = f"{api_id}.execute-api.localhost:{endpoint.rsplit(':', 1)[1]}"
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if signed:
        aws_request = AWSRequest(method=method, url=f"http://{host}{path}", data=data,
                                 headers=dict(headers))
        SigV4Auth(Credentials("e2e", "e2e"), "execute-api", REGION).add_auth(aws_request)
        headers = dict(aws_request.headers.items())
    headers["Host"] = host
    request = urllib.request.Request(endpoint + path, method=method, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        raw = error.read()
        return error.code, json.loads(raw) if raw else None


def test_stack_creates_three_functions_and_the_bucket(
    endpoint: str, stack: dict[str, str]
) -> None:
    resources = client(endpoint, "cloudformation").describe_stack_resources(
        StackName=STACK)["StackResources"]
    types = sorted(r["ResourceType"] for r in resources if r["ResourceType"] in (
        "AWS::Lambda::Function", "AWS::S3::Bucket", "AWS::ApiGatewayV2::Api"))
    assert types == ["AWS::ApiGatewayV2::Api", *["AWS::Lambda::Function"] * 3,
                     "AWS::S3::Bucket"]


def test_an_unsigned_request_is_refused(endpoint: str, stack: dict[str, str]) -> None:
    assert http(endpoint, stack["ApiId"], "GET", "/sessions", signed=False)[0] == 403


def test_a_session_lives_over_http(endpoint: str, stack: dict[str, str]) -> None:
    api = stack["ApiId"]
    status, created = http(endpoint, api, "POST", "/sessions")
    assert status == 201
    session = f"/sessions/{created['id']}"
    message = {"role": "human", "content": "hello through the deployed template"}
    assert http(endpoint, api, "POST", f"{session}/messages", message)[0] == 201
    status, listed = http(endpoint, api, "GET", f"{session}/messages")
    assert status == 200
    assert [(m["role"], m["content"]) for m in listed["messages"]] == [
        ("human", message["content"])]
    assert http(endpoint, api, "GET", f"{session}/checkpoints/latest")[0] == 404
    assert http(endpoint, api, "GET", "/sessions/no-such-session")[0] == 404


def test_a_deleted_session_is_gone_over_http(endpoint: str, stack: dict[str, str]) -> None:
    api = stack["ApiId"]
    status, created = http(endpoint, api, "POST", "/sessions")
    assert status == 201
    session = f"/sessions/{created['id']}"
    assert http(endpoint, api, "DELETE", session)[0] == 204
    assert http(endpoint, api, "GET", session)[0] == 404


def test_sessions_are_stored_in_the_stacks_bucket_under_the_prefix(
    endpoint: str, stack: dict[str, str]
) -> None:
    status, created = http(endpoint, stack["ApiId"], "POST", "/sessions")
    assert status == 201
    listed = client(endpoint, "s3").list_objects_v2(
        Bucket=stack["SessionsBucketName"], Prefix=f"{stack['SessionsPrefix']}/")
    keys = [entry["Key"] for entry in listed.get("Contents", [])]
    assert f"{stack['SessionsPrefix']}/sessions/{created['id']}.json" in keys
