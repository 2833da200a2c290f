"""What the three wire formats share: the parsed request, the response context, the encoder API."""

from __future__ import annotations

import json
import secrets
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

from pytest_llmbench.servers.sim.log import Wire
from pytest_llmbench.servers.sim.plan import Plan
from pytest_llmbench.servers.sim.profile import UsageMode

__all__ = [
    "BadRequest",
    "Context",
    "ErrorKind",
    "SimRequest",
    "WireFormat",
    "content_texts",
    "optional_limit",
    "sse",
]

ErrorKind = Literal["rate_limit", "server_error", "bad_request"]
ErrorReply = tuple[int, object, dict[str, str]]

MID_STREAM_ERROR = "Simulated upstream failure mid-stream"


class BadRequest(ValueError):
    """The request body cannot be served; the message goes back to the client (HTTP 400)."""


@dataclass(frozen=True)
class SimRequest:
    """The parts of a request the simulator acts on."""

    model: str
    texts: tuple[str, ...]
    turn: int
    max_tokens: int | None
    stream: bool
    include_usage: bool = False


@dataclass(frozen=True)
class Context:
    """Fixed facts of one response: its id, the model named, the prompt size, usage policy."""

    id: str
    model: str
    prompt_tokens: int
    include_usage: bool = False
    usage_mode: UsageMode = "when_asked"
    created: int = 0

    @property
    def send_usage(self) -> bool:
        """Whether an OpenAI stream ends with a usage chunk."""
        if self.usage_mode == "always":
            return True
        return self.usage_mode == "when_asked" and self.include_usage


def new_id(prefix: str) -> str:
    """A fresh response id such as ``chatcmpl-3f9a…`` (never drawn from the seeded generator)."""
    return prefix + secrets.token_hex(12)


def now_s() -> int:
    """Unix time in whole seconds, for ``created`` fields (never used for durations)."""
    return int(time.time())


def sse(data: object, event: str | None = None) -> bytes:
    """One server-sent event carrying ``data`` as compact JSON."""
    payload = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    head = f"event: {event}\n" if event is not None else ""
    return f"{head}data: {payload}\n\n".encode()


def content_texts(content: object) -> list[str]:
    """The text pieces of a message content: a string, or a list of strings / text parts."""
    if isinstance(content, str):
        return [content]
    texts: list[str] = []
    if isinstance(content, list):
        for part in content:
            if isinstance(part, str):
                texts.append(part)
            elif isinstance(part, Mapping):
                text = part.get("text")
                if isinstance(text, str):
                    texts.append(text)
                elif isinstance(part.get("content"), (str, list)):  # Anthropic tool_result
                    texts.extend(content_texts(part.get("content")))
    return texts


def read_turns(
    body: object,
    key: str,
    texts_of: Callable[[Mapping[str, object]], list[str]],
    default_role: str | None = None,
) -> tuple[Mapping[str, object], list[str], int]:
    """Check a request body's list of turns (``messages``/``contents``) and read it: the body as
    a mapping, the texts of every turn, and how many turns are the user's."""
    if not isinstance(body, Mapping):
        raise BadRequest("request body must be a JSON object")
    items = body.get(key)
    if not isinstance(items, list):
        raise BadRequest(f"{key} must be a list")
    texts: list[str] = []
    turn = 0
    for item in items:
        if not isinstance(item, Mapping):
            raise BadRequest(f"each item of {key} must be an object")
        texts.extend(texts_of(item))
        turn += item.get("role", default_role) == "user"
    return body, texts, turn


def optional_limit(body: Mapping[str, object], *keys: str) -> int | None:
    """The first of ``keys`` present in ``body`` as a token limit (``None`` if none is)."""
    for key in keys:
        value = body.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise BadRequest(f"{key} must be an integer >= 1, got {value!r}")
        return value
    return None


class WireFormat(ABC):
    """How one provider's API spells requests, stream events, complete responses and errors."""

    name: Wire
    id_prefix: str
    tags: bool = False  # whether think_tags reasoning travels as <think> text on this wire

    @abstractmethod
    def parse(self, body: object, path_model: str | None, stream: bool | None) -> SimRequest:
        """Read a request body (``path_model``/``stream`` come from the URL where it says so)."""

    @abstractmethod
    def start(self, ctx: Context, plan: Plan) -> bytes:
        """Bytes sent as soon as the stream opens, before any token."""

    @abstractmethod
    def events(self, ctx: Context, plan: Plan) -> Iterator[bytes]:
        """The bytes of each token event, one per group of ``plan``, in order, each built only
        when it is asked for (a stream renders an event just before it sleeps to its deadline,
        never all of them ahead)."""

    @abstractmethod
    def end(self, ctx: Context, plan: Plan) -> bytes:
        """Bytes that close a stream that ran to the end."""

    @abstractmethod
    def malformed(self, ctx: Context) -> bytes:
        """An event whose data is not valid JSON."""

    @abstractmethod
    def error_event(self, ctx: Context) -> bytes:
        """An in-stream error event and whatever ends the stream after it."""

    @abstractmethod
    def complete(self, ctx: Context, plan: Plan) -> object:
        """The whole (non-streaming) response body."""

    @abstractmethod
    def error(self, kind: ErrorKind, message: str | None = None) -> ErrorReply:
        """Status, body and extra headers of an error response (``message`` or the default)."""

    @abstractmethod
    def context_error(self, limit: int, prompt_tokens: int) -> ErrorReply:
        """The reply to a prompt longer than the context window."""
