"""A Strands agent with an offline stand-in model, and a command line to continue its
session in a NEW process:

    python strands_app.py file <root> <session id> <text>
    python strands_app.py s3 <endpoint> <bucket> <prefix> <session id> <text>

Prints ``{"output", "messages"}`` as JSON on the last line (the agent's messages after
the turn, as text)."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncGenerator
from typing import Any

from strands import Agent
from strands.models import Model
from strands.session.repository_session_manager import RepositorySessionManager

from synaptic_s3 import FileStore, S3Store, SessionManager, Store
from synaptic_s3.integrations.bridge import run_sync
from synaptic_s3.integrations.strands import StrandsSessionRepository

AGENT_ID = "assistant"


class EchoModel(Model):
    """Answers with how many user messages it was given and the last one's text, so the
    answer shows whether the restored history reached the model."""

    def update_config(self, **model_config: Any) -> None:
        pass

    def get_config(self) -> Any:
        return {}

    async def structured_output(self, *args: Any, **kwargs: Any) -> AsyncGenerator[Any, None]:
        raise NotImplementedError("not used by these tests")
        yield  # pragma: no cover

    async def stream(self, messages: Any, *args: Any, **kwargs: Any) -> AsyncGenerator[Any, None]:
        said = [block["text"] for message in messages if message["role"] == "user"
                for block in message["content"] if "text" in block]
        yield {"messageStart": {"role": "assistant"}}
        yield {"contentBlockStart": {"start": {}}}
        yield {"contentBlockDelta": {"delta": {"text": f"{len(said)} user message(s), "
                                                        f"last: {said[-1]}"}}}
        yield {"contentBlockStop": {}}
        yield {"messageStop": {"stopReason": "end_turn"}}


def agent(store: Store | SessionManager, session_id: str) -> Agent:
    manager = RepositorySessionManager(session_id=session_id,
                                       session_repository=StrandsSessionRepository(store))
    return Agent(model=EchoModel(), agent_id=AGENT_ID, session_manager=manager,
                 callback_handler=None)


def texts(messages: list[Any]) -> list[str]:
    return [block["text"] for message in messages for block in message["content"]
            if "text" in block]


def main(kind: str, *args: str) -> None:
    store: Store
    if kind == "file":
        root, session_id, text = args
        store = FileStore(root)
    else:
        endpoint, bucket, prefix, session_id, text = args
        store = S3Store(bucket, prefix=prefix, endpoint_url=endpoint, region_name="us-east-1")
    assistant = agent(store, session_id)
    output = str(assistant(text)).strip()
    print(json.dumps({"output": output, "messages": texts(assistant.messages)}))
    run_sync(store.close())


if __name__ == "__main__":
    main(*sys.argv[1:])
