"""Framework integrations: keep LangGraph or the OpenAI Agents SDK, put their state in a Store.

* :mod:`~synaptic_s3.integrations.langgraph_checkpoint` - ``SynapticSaver``, a LangGraph
  checkpointer (``pip install "synaptic-s3[langgraph]"``);
* :mod:`~synaptic_s3.integrations.langgraph_store` - ``SynapticStore``, a LangGraph
  ``BaseStore`` (same extra);
* :mod:`~synaptic_s3.integrations.openai_agents` - ``AgentsSession``, an OpenAI Agents SDK
  session (no extra dependency: the SDK's ``Session`` protocol is implemented structurally).

Nothing is imported here, so ``import synaptic_s3`` never needs a framework installed;
:mod:`~synaptic_s3.integrations.codec` and :mod:`~synaptic_s3.integrations.bridge` hold
what the integrations share (key encoding, the sync-to-async bridge).
"""
