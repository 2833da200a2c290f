"""llama.cpp's own account of each request, read from the managed server's stamped log.

With ``verbose`` on, llama-cpp-python prints for every completion (before it sends the last chunk)::

    Llama.generate: 4 prefix-match hit, remaining 413 prompt tokens to eval
    llama_perf_context_print: prompt eval time =    2642.47 ms /   413 tokens (...)
    llama_perf_context_print:        eval time =    1107.29 ms /    47 runs   (...)
    llama_perf_context_print:       total time =    3791.02 ms /   460 tokens

The first line appears only when a prefix of the previous prompt was reused from the KV cache
(its count is the cached tokens); ``prompt eval`` is llama.cpp's prefill of the rest, ``eval`` its
decode steps (the first output token is sampled from the prefill, so ``runs`` is one less than the
tokens generated); ``total time`` runs from the start of the completion to that print, so it covers
the chat template, tokenizing and every per-token step of llama-cpp-python's Python code as well.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["RequestTimings", "timings_between"]

_PREFIX = re.compile(r"Llama\.generate: (\d+) prefix-match hit, remaining (\d+) prompt tokens")
_CACHED_ALL = "Llama.generate: full prompt already cached"
_PROMPT = re.compile(r"prompt eval time\s*=\s*([\d.]+) ms /\s*(\d+) tokens")
_EVAL = re.compile(r"(?<!prompt )eval time\s*=\s*([\d.]+) ms /\s*(\d+) runs")
_TOTAL = re.compile(r"total time\s*=\s*([\d.]+) ms")


@dataclass
class RequestTimings:
    """What llama.cpp measured for one request."""

    cached_tokens: int = 0
    prompt_eval_tokens: int | None = None
    prompt_eval_ms: float | None = None
    eval_runs: int | None = None
    eval_ms: float | None = None
    total_ms: float | None = None
    logged_ns: int = 0

    @property
    def complete(self) -> bool:
        return None not in (self.prompt_eval_ms, self.eval_ms, self.total_ms)

    @property
    def prompt_tokens(self) -> int | None:
        if self.prompt_eval_tokens is None:
            return None
        return self.cached_tokens + self.prompt_eval_tokens

    @property
    def output_tokens(self) -> int | None:
        """The tokens it generated: one per decode step, and the first, which the prompt's
        evaluation gave."""
        return self.eval_runs + 1 if self.eval_runs is not None else None


def timings_between(
    lines: Iterable[tuple[int, str]], start_ns: int, end_ns: int
) -> list[RequestTimings]:
    """The requests whose timing lines were logged in ``[start_ns, end_ns]``, in order."""
    found: list[RequestTimings] = []
    current: RequestTimings | None = None
    for stamp, text in lines:
        if stamp < start_ns or stamp > end_ns:
            continue
        prefix = _PREFIX.search(text)
        if prefix or text.startswith(_CACHED_ALL):
            current = RequestTimings(cached_tokens=int(prefix.group(1)) if prefix else 0)
            found.append(current)
            continue
        prompt = _PROMPT.search(text)
        if prompt:
            if current is None or current.prompt_eval_ms is not None:
                current = RequestTimings()
                found.append(current)
            current.prompt_eval_ms, current.prompt_eval_tokens = float(prompt[1]), int(prompt[2])
            current.logged_ns = stamp
            continue
        decode = _EVAL.search(text)
        if decode and current is not None and current.eval_ms is None:
            current.eval_ms, current.eval_runs = float(decode[1]), int(decode[2])
            current.logged_ns = stamp
            continue
        total = _TOTAL.search(text)
        if total and current is not None and current.total_ms is None:
            current.total_ms = float(total[1])
            current = None
    return found
