"""Every Python example in docs/integrations.md runs verbatim, twice in a row (it must
clean up after itself): S3 examples against the moto server (``S3_ENDPOINT_URL``), the
Agents SDK example with an offline stand-in model in place of the SDK's default
provider, the ADK example with a fake BaseLlm in place of Gemini. Each runs as
``__main__`` in a fresh module and working directory (in this process: interpreter
start-up is the slow part, and the new-process cases are covered by the other suites)."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import pytest

pytest.importorskip("langgraph.graph")
pytest.importorskip("agents")
pytest.importorskip("strands")
pytest.importorskip("claude_agent_sdk")
pytest.importorskip("google.adk")

import agents
import strands.agent.agent
from agents.models.multi_provider import MultiProvider
from google.adk.models.registry import LLMRegistry

from synaptic_s3.testing import Endpoint, create_bucket

from .adk_app import EchoLlm
from .agents_app import EchoModel
from .conftest import endpoint_env
from .strands_app import EchoModel as StrandsEchoModel

pytestmark = pytest.mark.s3

DOC = Path(__file__).resolve().parents[2] / "docs" / "integrations.md"
SNIPPETS = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)


def test_every_integration_has_an_example() -> None:
    text = "\n".join(SNIPPETS)
    for name in ("SynapticSaver", "SynapticStore", "AgentsSession(manager, ", "interrupt(",
                 "AdkSessionService(", "ttl=", "ClaudeSessionStore", "StrandsSessionRepository",
                 "StrandsStorage", "SynapticChatMessageHistory"):
        assert name in text


@pytest.mark.parametrize("number", range(len(SNIPPETS)), ids=lambda n: f"example-{n}")
def test_example_runs(
    number: int, s3_endpoint: Endpoint, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    create_bucket(s3_endpoint, "my-bucket")
    for name, value in {**endpoint_env(s3_endpoint), "S3_ENDPOINT_URL": s3_endpoint.url}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(MultiProvider, "get_model", lambda self, name: EchoModel())
    monkeypatch.setattr(LLMRegistry, "new_llm", staticmethod(lambda name: EchoLlm()))
    # Strands' default model is Bedrock: the offline stand-in instead.
    monkeypatch.setattr(strands.agent.agent, "BedrockModel", lambda **_: StrandsEchoModel())
    agents.set_tracing_disabled(True)
    try:
        code = compile(SNIPPETS[number], f"{DOC.name}:example-{number}", "exec")
        for _ in range(2):  # as a reader would run it again: nothing left in the way
            # A registered module, so LangGraph can resolve the example's type hints.
            module = types.ModuleType(f"docs_integrations_example_{number}")
            monkeypatch.setitem(sys.modules, module.__name__, module)
            exec(code, module.__dict__)
    finally:
        agents.set_tracing_disabled(False)
