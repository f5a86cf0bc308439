"""Framework integrations: keep your agent framework, put its state in a Store (adapters
depend on the core; the core never imports them).

* :mod:`~synaptic_s3.integrations.langgraph_checkpoint` - ``SynapticSaver``, a LangGraph
  checkpointer (``pip install "synaptic-s3[langgraph]"``);
* :mod:`~synaptic_s3.integrations.langgraph_store` - ``SynapticStore``, a LangGraph
  ``BaseStore`` (same extra);
* :mod:`~synaptic_s3.integrations.openai_agents` - ``AgentsSession``, an OpenAI Agents SDK
  session (no extra dependency: the SDK's ``Session`` protocol is implemented structurally);
* :mod:`~synaptic_s3.integrations.google_adk` - ``AdkSessionService``, a Google ADK
  ``BaseSessionService`` (``pip install "synaptic-s3[google-adk]"``);
* :mod:`~synaptic_s3.integrations.claude_agent_sdk` - ``ClaudeSessionStore``, a Claude Agent
  SDK ``SessionStore`` (``pip install "synaptic-s3[claude-agent-sdk]"``);
* :mod:`~synaptic_s3.integrations.strands` - ``StrandsSessionRepository``, a Strands Agents
  ``SessionRepository`` (``pip install "synaptic-s3[strands]"``), and
  :mod:`~synaptic_s3.integrations.strands_storage` - ``StrandsStorage``, its snapshot
  ``Storage`` (same extra);
* :mod:`~synaptic_s3.integrations.langchain_history` - ``SynapticChatMessageHistory``, a
  LangChain ``BaseChatMessageHistory`` (``pip install "synaptic-s3[langchain]"``), with the
  message conversion in :mod:`~synaptic_s3.integrations.langchain_messages`.

Nothing is imported here, so ``import synaptic_s3`` never needs a framework installed;
:mod:`~synaptic_s3.integrations.codec` and :mod:`~synaptic_s3.integrations.bridge` hold
what the integrations share (key encoding, the sync-to-async bridge);
:mod:`~synaptic_s3.integrations.inflight` coalesces identical concurrent reads, and
:mod:`~synaptic_s3.integrations.documents` makes cached compare-and-swap edits of whole objects.
"""
