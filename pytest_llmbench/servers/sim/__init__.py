"""The built-in streaming LLM simulator (``python -m pytest_llmbench.servers.sim``).

An HTTP server on loopback that speaks the OpenAI, Anthropic and Gemini wire formats, with timing
set by its profiles (:class:`~.profile.SimProfile`), and a truth log of the
moment every event was sent (``GET /llmbench/requests``) so tests can hold a client's measured
figures against what really happened. The plugin's measuring code never imports the server; it
starts it as a subprocess through :class:`~pytest_llmbench.servers.sim.server.SimServer`.

Load model (off by default; then every request is served as if it were alone): per model name, a
profile may cap the requests being served at once (``max_batch``, the others wait in a FIFO
admission queue and their TTFT clock starts at admission), slow every decode step with the batch
(``decode_slowdown`` ``s``: each gap is ``itl_ms * tokens * (1 + s * (b - 1))`` with ``b`` the
requests admitted when the gap starts), prefill one prompt at a time (``prefill_serial``: the
first token is due at ``max(admission, lane free) + TTFT target``) and hold decoding up while
the lane is busy (``prefill_stalls_decode``). The truth log records each request's ``admit_ns``
and ``batch_at_admit``; :meth:`SimProfile.closed_loop_expectation` states the steady state a
closed loop at a given concurrency should measure (see :mod:`~.batch` and :class:`SimProfile`).

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

``GET /llmbench/requests`` takes ``since_ns=N`` (the records received at or after N, monotonic
ns), ``offset=K`` (skip the first K of those), ``limit=L`` (at most L) and ``events=ends`` (each
record with only its first and last event, the other fields whole; ``all``, the default, keeps
every event); a bad value is a 400 naming the parameter. Records come oldest logged first, and
the log only grows at its end, so offsets stay put under load. :meth:`SimServer.requests` passes
these on; :meth:`SimServer.iter_requests` reads a large log page by page, compact by default.

This package's ``__init__`` imports only standard-library modules, so importing
:class:`SimServer` stays cheap.
"""

from __future__ import annotations

from pytest_llmbench.servers.sim.profile import SimConfig, SimProfile
from pytest_llmbench.servers.sim.server import SimServer

__all__ = ["SimConfig", "SimProfile", "SimServer"]
