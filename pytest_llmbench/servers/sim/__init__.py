"""The built-in streaming LLM simulator (``python -m pytest_llmbench.servers.sim``).

An HTTP server on loopback that speaks the OpenAI, Anthropic and Gemini wire formats, with timing
set by its profiles (:class:`~.profile.SimProfile`), and a truth log of the
moment every event was sent (``GET /llmbench/requests``) so tests can hold a client's measured
figures against what really happened. The plugin's measuring code never imports the server; it
starts it as a subprocess through :class:`~pytest_llmbench.servers.sim.server.SimServer`.

Paths (LiteLLM 1.106.2 behaviour, checked against this server):

* ``openai/<model>`` with ``api_base=BASE + "/v1"`` calls ``POST /v1/chat/completions``.
* ``anthropic/<model>`` with ``api_base=BASE`` calls ``POST /v1/messages`` (stream or not).
* ``gemini/<model>`` with ``api_base=BASE`` calls
  ``POST /models/<model>:streamGenerateContent?alt=sse`` when streaming and
  ``POST /models/<model>:generateContent`` otherwise (no ``/v1beta`` prefix), and sends
  the token cap as ``generationConfig.max_output_tokens`` (snake case).

The server also answers Google's own ``/v1beta/models/<model>:…`` and ``/v1/models/<model>:…``,
``/chat/completions``, ``/messages``, ``GET /v1/models``, and ``/llmbench/health``,
``/llmbench/requests``, ``/llmbench/requests/{id}``.

This package's ``__init__`` imports only standard-library modules, so importing
:class:`SimServer` stays cheap.
"""

from __future__ import annotations

from pytest_llmbench.servers.sim.profile import SimConfig, SimProfile
from pytest_llmbench.servers.sim.server import SimServer

__all__ = ["SimConfig", "SimProfile", "SimServer"]
