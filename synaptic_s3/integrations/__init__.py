"""Framework integrations: keep LangGraph, the OpenAI Agents SDK or Google ADK, put
their state in a Store (adapters depend on the core; the core never imports them).

* :mod:`~synaptic_s3.integrations.langgraph_checkpoint` - ``SynapticSaver``, a LangGraph
  checkpointer (``pip install "synaptic-s3[langgraph]"``);
* :mod:`~synaptic_s3.integrations.langgraph_store` - ``SynapticStore``, a LangGraph
  ``BaseStore`` (same extra);
* :mod:`~synaptic_s3.integrations.openai_agents` - ``AgentsSession``, an OpenAI Agents SDK
  session (no extra dependency: the SDK's ``Session`` protocol is implemented structurally);
* :mod:`~synaptic_s3.integrations.google_adk` - ``AdkSessionService``, a Google ADK
  ``BaseSessionService`` (``pip install "synaptic-s3[google-adk]"``).

Nothing is imported here, so ``import synaptic_s3`` never needs a framework installed;
:mod:`~synaptic_s3.integrations.codec` and :mod:`~synaptic_s3.integrations.bridge` hold
what the integrations share (key encoding, the sync-to-async bridge);
:mod:`~synaptic_s3.integrations.inflight` coalesces identical concurrent reads.
"""
