"""The requests of a load point, built before it starts: bodies as bytes, sizes drawn, seeded.

Every request's prompt is the point's filler cut to the request's prompt size, headed by a nonce
of its own, so no server's prefix cache can serve one request from another (docs/metrics.md,
"cache-busting"). With ``shared_prefix`` s, the first s of each prompt is one text shared by every
request of the point (measuring prefix caching on purpose) and the nonce follows it. A ``dataset``
replaces the filler: message lists drawn by weight. Sizes are fixed or drawn (uniform, normal
clipped to its bounds) from ``random.Random`` seeded by the shape's seed and the point, so a
point sends the same sizes every run; the nonces differ every run.

Bodies are JSON encoded here, before the point: the measuring loop only writes bytes.
"""

from __future__ import annotations

import json
import random
import secrets
from array import array
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..clients.raw_http import Endpoint, build_request
from ..config.load_dataset import DatasetEntry, read_load_dataset
from ..config.load_spec import LoadPoint, RequestShape, Size
from ..tokens import encoding
from .filler import make_filler

__all__ = ["PREBUILT_MAX", "RequestBuilder", "draw"]

#: Requests built before a point at most; later ones are built as they are sent (and counted).
PREBUILT_MAX = 50_000


def draw(size: Size, rng: random.Random) -> int:
    """One count from ``size``."""
    if size.kind == "uniform":
        return rng.randint(size.low, size.high)
    if size.kind == "normal":
        value = round(rng.gauss(size.mean, size.stdev))
        return min(max(value, size.low), size.high or value)
    return size.mean


class RequestBuilder:
    """Builds request ``i`` of a point: its bytes, prompt and output size (``planned_*``)."""

    def __init__(
        self,
        endpoint: Endpoint,
        model: str,
        shape: RequestShape,
        point: LoadPoint,
        params: Mapping[str, Any],
        headers: dict[str, str],
        max_tokens_field: str = "max_tokens",
        filler_in: str = "system",
        config_dir: Path | None = None,
        stream: str = "",
    ) -> None:
        self.endpoint, self.model, self.shape, self.params = endpoint, model, shape, params
        self.headers, self.field, self.filler_in = headers, max_tokens_field, filler_in
        # ``stream``: a shard's own draws (each shard of a point a different sequence of sizes)
        self.rng = random.Random(f"{shape.seed}:{point.id}{stream}")
        self.planned_prompt: array[int] = array("q")
        self.planned_output: array[int] = array("q")
        self.built_late = 0
        self._built: list[bytes] = []
        self._dataset = _dataset(shape.dataset, config_dir) if shape.dataset else None
        most = max(shape.prompt_tokens.high, shape.prompt_tokens.mean, 1)
        self._ids = encoding().encode_ordinary(make_filler(most + 8))
        self._shared_len = round(shape.shared_prefix * most)
        self._shared = encoding().decode(self._ids[: self._shared_len])

    def prebuild(self, count: int) -> None:
        """Build the first ``count`` requests (at most :data:`PREBUILT_MAX`)."""
        for _ in range(min(count, PREBUILT_MAX) - len(self._built)):
            self._built.append(self._build())

    def __call__(self, index: int) -> bytes:
        """The bytes of request ``index``, handed out once (the built copy is let go)."""
        if index >= len(self._built):
            self.built_late += 1
            while len(self._built) <= index:
                self._built.append(self._build())
        data, self._built[index] = self._built[index], b""
        return data

    def warm_request(self) -> bytes:
        """A short request that primes a connection (and the server) before the point."""
        body = self._body([{"role": "user", "content": f"[{secrets.token_hex(4)}] Say OK."}], 4)
        return build_request(self.endpoint, body, self.headers)

    def _build(self) -> bytes:
        output = max(1, draw(self.shape.output_tokens, self.rng))
        messages: Sequence[Mapping[str, Any]]
        if self._dataset is not None:
            messages, prompt = self._from_dataset()
        else:
            prompt = max(0, draw(self.shape.prompt_tokens, self.rng))
            messages = self._messages(prompt)
        self.planned_prompt.append(prompt)
        self.planned_output.append(output)
        return build_request(self.endpoint, self._body(messages, output), self.headers)

    def _messages(self, prompt_tokens: int) -> list[dict[str, str]]:
        nonce = f"[{secrets.token_hex(8)}] "
        start = self._shared_len
        rest = max(0, prompt_tokens - start)
        unique = encoding().decode(self._ids[start : start + rest]) if rest else ""
        text = self._shared + nonce + unique
        question = "Continue the notes."
        if self.filler_in == "user" or not unique:
            return [{"role": "user", "content": f"{text}\n\n{question}"}]
        return [{"role": "system", "content": text}, {"role": "user", "content": question}]

    def _from_dataset(self) -> tuple[list[Mapping[str, Any]], int]:
        assert self._dataset is not None
        entries = self._dataset
        entry = self.rng.choices(entries, [e.weight for e in entries])[0]
        text = " ".join(str(m.get("content", "")) for m in entry.messages)
        return list(entry.messages), len(encoding().encode_ordinary(text))

    def _body(self, messages: Sequence[Mapping[str, Any]], output: int) -> bytes:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": list(messages),
            "stream": True,
            "stream_options": {"include_usage": True},
            **self.params,
            self.field: output,
        }
        if self.shape.ignore_eos:
            body["ignore_eos"] = True
        return json.dumps({k: v for k, v in body.items() if v is not None}).encode()


def _dataset(name: str, config_dir: Path | None) -> tuple[DatasetEntry, ...]:
    """The dataset's entries (the config stage has checked the file; its path is absolute)."""
    path = Path(name)
    return read_load_dataset(
        path if path.is_absolute() or config_dir is None else config_dir / path
    )
