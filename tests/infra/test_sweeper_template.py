"""The idle-session sweeper in template.yaml: absent unless IdleSessionDays is set;
then one scheduled function, one run at a time, that may only list and delete under
the sessions prefix."""

from __future__ import annotations

from typing import Any

import pytest

from tests.infra import cfn
from tests.infra.pysource import resolve_definition

ON = {"IdleSessionDays": "30"}


@pytest.fixture(scope="module")
def translated() -> dict[str, Any]:
    return cfn.translate()


@pytest.fixture(scope="module")
def sweeping(translated: dict[str, Any]) -> cfn.Stack:
    return cfn.Stack(translated, ON)


def statements(stack: cfn.Stack, role_id: str) -> list[dict[str, Any]]:
    return [statement for where, statement in cfn.policy_statements(stack)
            if where.startswith(f"{role_id}/") and statement["Effect"] == "Allow"]


@pytest.mark.parametrize("mode", [{}, {"AuthMode": "jwt", "JwtIssuer": "https://i.example",
                                       "JwtAudience": "a"}])
def test_no_sweeper_unless_idle_days_are_set(translated: dict[str, Any],
                                            mode: dict[str, str]) -> None:
    stack = cfn.Stack(translated, mode)
    assert "SweeperFunction" not in stack.resources
    assert stack.of_type("AWS::Scheduler::Schedule") == {}


def test_the_sweeper_runs_on_the_schedule(sweeping: cfn.Stack) -> None:
    _, schedule = sweeping.only("AWS::Scheduler::Schedule")
    properties = schedule["Properties"]
    assert properties["ScheduleExpression"] == {"Ref": "SweepSchedule"}
    assert properties["Target"]["Arn"] == {"Fn::GetAtt": ["SweeperFunction", "Arn"]}
    assert properties["Target"]["RetryPolicy"] == {"MaximumRetryAttempts": 0}


def test_the_sweeper_is_one_run_at_a_time_and_bounded(sweeping: cfn.Stack) -> None:
    function = sweeping.resources["SweeperFunction"]["Properties"]
    assert function["ReservedConcurrentExecutions"] == 1
    assert function["Timeout"] == 900
    variables = function["Environment"]["Variables"]
    assert variables["IDLE_DAYS"] == {"Ref": "IdleSessionDays"}
    assert variables["SWEEP_MAX_SESSIONS"] == {"Ref": "SweepMaxSessionsPerRun"}
    assert variables["SESSIONS_BUCKET"] == {"Ref": "SessionsBucket"}
    assert variables["SESSIONS_PREFIX"] == {"Ref": "SessionsPrefix"}


def test_the_sweeper_may_only_list_and_delete_under_the_prefix(sweeping: cfn.Stack) -> None:
    s3 = [s for s in statements(sweeping, "SweeperRole")
          if any(a.startswith("s3:") for a in cfn.as_list(s["Action"]))]
    by_action = {tuple(cfn.as_list(s["Action"])): s for s in s3}
    assert set(by_action) == {("s3:DeleteObject",), ("s3:ListBucket",)}
    assert by_action[("s3:DeleteObject",)]["Resource"] == {
        "Fn::Sub": "${SessionsBucket.Arn}/${SessionsPrefix}/*"}
    listing = by_action[("s3:ListBucket",)]
    assert listing["Resource"] == {"Fn::GetAtt": ["SessionsBucket", "Arn"]}
    assert listing["Condition"] == {"StringLike": {"s3:prefix": {
        "Fn::Sub": "${SessionsPrefix}/*"}}}


def test_the_sweeper_writes_logs_only_to_its_own_log_group(sweeping: cfn.Stack) -> None:
    logs = [s for s in statements(sweeping, "SweeperRole")
            if any(a.startswith("logs:") for a in cfn.as_list(s["Action"]))]
    assert logs == [{"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                     "Resource": {"Fn::GetAtt": ["SweeperLogGroup", "Arn"]}}]
    function = sweeping.resources["SweeperFunction"]["Properties"]
    assert function["LoggingConfig"]["LogGroup"] == {"Ref": "SweeperLogGroup"}
    assert sweeping.resources["SweeperLogGroup"]["Properties"]["RetentionInDays"] == {
        "Ref": "LogRetentionDays"}


def test_the_scheduler_may_only_invoke_the_sweeper(sweeping: cfn.Stack) -> None:
    roles = {logical_id: role for logical_id, role in sweeping.of_type("AWS::IAM::Role").items()
             if "Sweep" in logical_id and logical_id != "SweeperRole"}
    (role,) = roles.values()
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": ["scheduler.amazonaws.com"]}
    actions = {action for policy in role["Properties"]["Policies"]
               for statement in cfn.as_list(policy["PolicyDocument"]["Statement"])
               for action in cfn.as_list(statement["Action"])}
    assert actions == {"lambda:InvokeFunction"}


def test_the_sweeper_handler_is_in_the_repository(sweeping: cfn.Stack) -> None:
    handler = sweeping.resources["SweeperFunction"]["Properties"]["Handler"]
    module, _, name = handler.rpartition(".")
    path, _ = resolve_definition(cfn.REPO, module, name)
    assert path.is_relative_to(cfn.REPO)


def test_no_grant_of_the_sweeping_stack_is_a_wildcard(sweeping: cfn.Stack) -> None:
    for where, statement in cfn.policy_statements(sweeping):
        if statement["Effect"] != "Allow":
            continue
        for action in cfn.as_list(statement["Action"]):
            assert "*" not in action, (where, action)
