"""The run report's second calibration: our figures against a managed llama.cpp server's own."""

from __future__ import annotations

from ...schema import Key
from .layout import none, section
from .markup import Column, Markup, esc, table
from .model import Run, as_map, num

__all__ = ["crosscheck_section"]

#: The figures of :func:`~pytest_llmbench.results.crosscheck.crosscheck_summary`, in the order
#: shown: (key, label, what the difference means).
_ROWS = (
    (
        Key.TTFT_MINUS_PROMPT_EVAL_MS,
        "TTFT − llama.cpp prompt eval (ms)",
        "Our TTFT minus llama.cpp's prefill time: HTTP, chat template, tokenizing and sending "
        "the first token. It grows with the prompt (llama-cpp-python tokenizes it and looks for "
        "the cached prefix in Python, outside llama.cpp's timer): tens of ms for a short prompt, "
        "hundreds at a few thousand tokens.",
    ),
    (
        Key.E2E_MINUS_TOTAL_MS,
        "e2e − llama.cpp total (ms)",
        "Our last-token time minus llama.cpp's total time for the completion (template to last "
        "token): the request's trip and queueing outside llama-cpp-python.",
    ),
    (
        Key.DECODE_TPS_DIFF_PCT,
        "decode tok/s vs llama.cpp eval (%)",
        "Our decode rate (first to last token event) against llama.cpp's decode steps alone; the "
        "gap is llama-cpp-python's per-token Python work (sampling, detokenizing, SSE).",
    ),
    (
        Key.OUTPUT_TOKENS_DIFF_PCT,
        "output tokens vs llama.cpp (%)",
        "Our output-token count (the model's tokenizer on the streamed text) against the tokens "
        "llama.cpp generated (its decode runs + 1).",
    ),
    (
        Key.CACHED_TOKENS,
        "prompt tokens reused (cache)",
        "Prompt tokens llama-cpp-python reused from the previous request's KV cache. Throughput "
        "filler starts with a nonce, so only the chat template's first tokens should be reused.",
    ),
)


def crosscheck_section(run: Run, prefix: str) -> Markup:
    title = "Cross-check against llama.cpp's own timings"
    section_id = f"{prefix}crosscheck"
    if not run.crosscheck:
        empty = none("none (no managed llama.cpp server in this run)")
        return section(title, empty, section_id=section_id)
    columns = [
        Column("target"),
        Column("figure"),
        Column("n", "n", numeric=True),
        Column("median", "median", numeric=True),
        Column("min", numeric=True, tip_text="Smallest value."),
        Column("max", numeric=True, tip_text="Largest value."),
    ]
    rows = []
    for target, values in run.crosscheck.items():
        for key, label, explanation in _ROWS:
            stats = as_map(as_map(values).get(key))
            if not stats.get("n"):
                continue
            rows.append(
                [
                    run.label(target),
                    Markup(f'<span title="{esc(explanation)}">{esc(label)}</span>'),
                    stats.get("n"),
                    num(stats.get("median")),
                    num(stats.get("min")),
                    num(stats.get("max")),
                ]
            )
    intro = (
        "llama.cpp times its own prefill and decode inside a managed server; each request's "
        "figures are read from the server's log and set beside ours (hover a figure for what the "
        "difference means). Prompt and cached token counts in the records come from the same log."
    )
    return section(title, table(columns, rows), section_id=section_id, intro=intro)
