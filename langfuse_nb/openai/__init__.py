"""Drop-in tracing for the OpenAI SDK: change the import, every call becomes a generation.

Example::

    from langfuse_nb.openai import openai  # instead of: import openai

    client = openai.OpenAI()
    client.chat.completions.create(model="gpt-4o-mini", messages=[...], name="greeting")

Chat completions, completions, embeddings and the Responses API are traced (sync, async, streaming, Azure
clients); ``name=``, ``metadata=``, ``langfuse_prompt=``, ``trace_id=``, ``parent_observation_id=``,
``user_id=``, ``session_id=``, ``tags=`` and ``langfuse_public_key=`` are consumed here, not sent to OpenAI.
Importing this module imports ``openai``; ``import langfuse_nb`` alone never does.
"""

from __future__ import annotations

try:
    import openai
    from openai import AsyncAzureOpenAI, AsyncOpenAI, AzureOpenAI, OpenAI
except ImportError:  # the extra is optional: one line that says how to get it
    raise ImportError(
        "langfuse_nb.openai needs the openai package: pip install 'langfuse-nb[openai]'"
    ) from None

from langfuse_nb.openai._wrap import install

install()

__all__ = ["AsyncAzureOpenAI", "AsyncOpenAI", "AzureOpenAI", "OpenAI", "openai"]
