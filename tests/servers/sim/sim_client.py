"""A small raw HTTP client for the simulator tests: full bodies, SSE events, errors kept."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from multidict import CIMultiDict


@dataclass
class SSEEvent:
    event: str | None
    data: str

    def json(self) -> Any:
        return json.loads(self.data)


@dataclass
class Reply:
    status: int
    headers: CIMultiDict[str]
    body: bytes
    error: BaseException | None = None
    events: list[SSEEvent] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)

    def json(self) -> Any:
        return json.loads(self.body)

    def data(self) -> list[str]:
        """The ``data:`` payloads, in order."""
        return [e.data for e in self.events]

    def chunks(self) -> list[dict[str, Any]]:
        """OpenAI stream: every JSON chunk (``[DONE]`` left out)."""
        return [json.loads(d) for d in self.data() if d != "[DONE]"]

    def deltas(self) -> list[dict[str, Any]]:
        """OpenAI stream: the delta of every chunk that has a choice."""
        return [c["choices"][0]["delta"] for c in self.chunks() if c.get("choices")]


def parse_sse(body: bytes) -> tuple[list[SSEEvent], list[str]]:
    events: list[SSEEvent] = []
    comments: list[str] = []
    for block in body.decode().split("\n\n"):
        if not block.strip():
            continue
        name = None
        data: list[str] = []
        for line in block.split("\n"):
            if line.startswith(":"):
                comments.append(line[1:].strip())
            elif line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
        if data:
            events.append(SSEEvent(name, "\n".join(data)))
    return events, comments


class SimClient:
    def __init__(self, base_url: str, session: aiohttp.ClientSession) -> None:
        self.base_url = base_url
        self.session = session

    async def post(self, path: str, body: Any, *, timeout: float = 10.0) -> Reply:
        """POST ``body`` as JSON (bytes are sent raw); read everything, keeping any error."""
        kwargs: dict[str, Any] = {"data": body} if isinstance(body, bytes) else {"json": body}
        received = bytearray()
        status, headers, error = 0, CIMultiDict[str](), None
        try:
            async with self.session.post(
                self.base_url + path, timeout=aiohttp.ClientTimeout(total=timeout), **kwargs
            ) as response:
                status, headers = response.status, CIMultiDict(response.headers)
                async for chunk in response.content.iter_any():
                    received += chunk
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            error = exc
        reply = Reply(status, headers, bytes(received), error)
        if headers.get("Content-Type", "").startswith("text/event-stream"):
            reply.events, reply.comments = parse_sse(reply.body)
        return reply

    async def get(self, path: str) -> Reply:
        async with self.session.get(self.base_url + path) as response:
            return Reply(response.status, CIMultiDict(response.headers), await response.read())

    async def chat(self, model: str, content: str = "Hello there.", **extra: Any) -> Reply:
        body = {"model": model, "messages": [{"role": "user", "content": content}], **extra}
        body.setdefault("stream", True)
        return await self.post("/v1/chat/completions", body)
