"""An OpenAI Agents SDK agent with an offline stand-in model, and a command line to
continue a conversation in a NEW process:
``python agents_app.py <endpoint> <bucket> <prefix> <session id> <text>``.
Prints ``{"output", "items"}`` as JSON on the last line."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from typing import Any

from agents import Agent, Model, ModelResponse, RunConfig, Runner, Usage
from openai.types.responses import ResponseOutputMessage, ResponseOutputText

from synaptic_s3 import S3Store, SessionManager
from synaptic_s3.integrations.openai_agents import AgentsSession

OFFLINE = RunConfig(tracing_disabled=True)


class EchoModel(Model):
    """Answers with what it was given: how many user messages, and the last one. So the
    answer shows whether the session's history reached the model."""

    async def get_response(self, system_instructions: str | None, input: Any,
                           *args: Any, **kwargs: Any) -> ModelResponse:
        items = [{"role": "user", "content": input}] if isinstance(input, str) else input
        said = [item["content"] for item in items if item.get("role") == "user"]
        text = f"{len(said)} user message(s), last: {said[-1]}"
        message = ResponseOutputMessage(
            id=f"msg_{len(said)}", type="message", role="assistant", status="completed",
            content=[ResponseOutputText(type="output_text", text=text, annotations=[])],
        )
        return ModelResponse(output=[message], usage=Usage(), response_id=None)

    def stream_response(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        raise NotImplementedError("the tests run the agent without streaming")


def agent() -> Agent[Any]:
    return Agent(name="echo", instructions="Repeat what you heard.", model=EchoModel())


async def main(endpoint: str, bucket: str, prefix: str, session_id: str, text: str) -> None:
    async with S3Store(bucket, prefix=prefix, endpoint_url=endpoint,
                       region_name="us-east-1") as store:
        session = AgentsSession(SessionManager(store), session_id)
        result = await Runner.run(agent(), text, session=session, run_config=OFFLINE)
        items = await session.get_items()
    print(json.dumps({"output": result.final_output, "items": items}))


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:]))
