"""A Google ADK agent with an offline fake model (ADK's own test pattern: a BaseLlm
subclass with canned answers), and a command line to continue a session in a NEW
process: ``python adk_app.py <endpoint> <bucket> <prefix> <user> <session id> <text>``.
Prints ``{"output", "events"}`` as JSON on the last line."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncGenerator
from typing import Any

from google.adk.agents import LlmAgent
from google.adk.models.base_llm import BaseLlm
from google.adk.models.llm_request import LlmRequest
from google.adk.models.llm_response import LlmResponse
from google.adk.runners import Runner
from google.genai import types

from synaptic_s3 import S3Store, SessionManager
from synaptic_s3.integrations.google_adk import AdkSessionService

APP = "echo-app"


class EchoLlm(BaseLlm):
    """Answers with how many user turns reached it and the last one, so the answer
    shows whether the stored history was replayed to the model."""

    model: str = "echo"

    async def generate_content_async(self, llm_request: LlmRequest, stream: bool = False
                                     ) -> AsyncGenerator[LlmResponse, None]:
        said = [part.text for content in llm_request.contents if content.role == "user"
                for part in content.parts or [] if part.text]
        text = f"{len(said)} user message(s), last: {said[-1] if said else ''}"
        yield LlmResponse(content=types.Content(role="model", parts=[types.Part(text=text)]))


def agent() -> LlmAgent:
    return LlmAgent(name="echo", model=EchoLlm(), instruction="Repeat what you heard.")


def user_says(text: str) -> types.Content:
    return types.Content(role="user", parts=[types.Part(text=text)])


async def turn(service: AdkSessionService, user: str, session_id: str, text: str) -> str:
    runner = Runner(app_name=APP, agent=agent(), session_service=service)
    answer = ""
    async for event in runner.run_async(user_id=user, session_id=session_id,
                                        new_message=user_says(text)):
        if event.content and event.content.parts and event.content.parts[0].text:
            answer = event.content.parts[0].text
    return answer


async def main(endpoint: str, bucket: str, prefix: str, user: str, session_id: str,
               text: str) -> Any:
    async with S3Store(bucket, prefix=prefix, endpoint_url=endpoint,
                       region_name="us-east-1") as store:
        service = AdkSessionService(SessionManager(store))
        output = await turn(service, user, session_id, text)
        session = await service.get_session(app_name=APP, user_id=user, session_id=session_id)
        assert session is not None
    print(json.dumps({"output": output, "events": len(session.events)}))


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:]))
