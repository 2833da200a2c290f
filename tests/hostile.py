"""A hostile streaming server on loopback, for the clients' bounds tests, in three wire formats.

It speaks OpenAI's chat completions (``/v1/chat/completions``), Anthropic's messages
(``/v1/messages``) and Gemini's ``streamGenerateContent`` (``/models/<model>:…`` and
``/v1beta/models/<model>:…``), the wire chosen by the path (tests/hostile_wires.py builds the
events). Every request picks its misbehaviour by the model name (``"model": "endless"``, through
LiteLLM ``openai/endless``, ``anthropic/endless`` or ``gemini/endless``, the last in the path) or
by the ``X-Hostile-Mode`` header. The server runs on its own event loop in a daemon thread, on free
loopback ports, and bounds itself: no handler runs longer than :data:`HANDLER_LIMIT_S`, and the
whole server stops after :data:`LIFETIME_S` even if nobody stops it. A second site on another port
(``elsewhere``) answers whatever is redirected to it.

Modes (see :data:`MODES`), each in every wire: ``ok``, ``empty`` (no token events), ``no_end``
(tokens, then the body ends without the finish reason or terminal event), ``endless`` (tokens
without end), ``trickle`` (one byte a second), ``gzip_bomb`` (a gzip body of :data:`BOMB_BYTES`
zeros, compressed lazily), ``long_line`` (an unterminated 40 MB SSE line), ``html`` (a 200 HTML
page), ``malformed`` (a broken event mid-stream), ``redirect`` (302 to ``elsewhere``),
``chunk_break`` (invalid chunked framing mid-stream), ``flood`` (:data:`FLOOD_EVENTS` token events
whatever ``max_tokens`` says), ``big_error`` (a 500 with a 5 MB body), ``ansi_error`` (a 503 whose
message carries terminal escapes), ``echo_error`` (a 401 whose body repeats the header the key
came in) and ``echo_event`` (an error event in a 200 stream repeating it).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
import time
import zlib
from collections.abc import Awaitable, Callable, Iterator

from aiohttp import web

from .hostile_wires import Wire, wire_of

#: Where the server answers: OpenAI's chat completions, Anthropic's messages, Gemini's
#: ``streamGenerateContent`` (with and without Google's ``/v1beta`` prefix).
CHAT_PATHS = (
    "/v1/chat/completions",
    "/v1/messages",
    "/models/{target}",
    "/v1beta/models/{target}",
)
HANDLER_LIMIT_S = 60.0
LIFETIME_S = 900.0
#: Terminal escapes in an error message: clear the screen, set the window title, a green "passed".
ANSI = "\x1b[2J\x1b]0;owned\x07\x1b[32m1 passed\x1b[0m"
BOMB_BYTES = 1 << 30
LONG_LINE_BYTES = 40 * 1024 * 1024
FLOOD_EVENTS = 2000
BIG_ERROR_BYTES = 5 * 1024 * 1024
MALFORMED_AT = 5
STREAM_EVENTS = 20
MODE_HEADER = "X-Hostile-Mode"

Handler = Callable[[web.Request, str], Awaitable[web.StreamResponse]]
ELSEWHERE = web.AppKey("elsewhere", str)
HITS = web.AppKey("hits", list[str])
WIRE = web.RequestKey("wire", Wire)


def gzip_bomb(total: int, block: int = 1 << 20) -> Iterator[bytes]:
    """A gzip member of ``total`` zero bytes (a multiple of ``block``), produced piece by piece
    from one compressed block repeated, so it never holds more than a block in memory."""
    squeeze = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(block)
    first = squeeze.compress(zeros) + squeeze.flush(zlib.Z_FULL_FLUSH)
    again = squeeze.compress(zeros) + squeeze.flush(zlib.Z_FULL_FLUSH)
    crc = zlib.crc32(zeros)
    yield first
    for _ in range(total // block - 1):
        crc = zlib.crc32(zeros, crc)
        yield again
    # The last, empty and final fixed block, then the gzip trailer: CRC-32 and size mod 2**32.
    yield b"\x03\x00" + struct.pack("<II", crc, total & 0xFFFFFFFF)


def _sse_response(**headers: str) -> web.StreamResponse:
    return web.StreamResponse(headers={"Content-Type": "text/event-stream", **headers})


async def _write_all(
    request: web.Request, pieces: Iterator[bytes], pause_s: float = 0
) -> web.StreamResponse:
    """Write pieces until done, the client goes, or :data:`HANDLER_LIMIT_S` passes."""
    response = _sse_response()
    await response.prepare(request)
    stop = time.monotonic() + HANDLER_LIMIT_S
    with contextlib.suppress(ConnectionError):
        for piece in pieces:
            if time.monotonic() > stop or request.transport is None:
                return response
            await response.write(piece)
            await asyncio.sleep(pause_s)
        await response.write_eof()
    return response


async def _stream(request: web.Request, mode: str) -> web.StreamResponse:
    wire = request[WIRE]
    head, tail = wire.head(), wire.tail()
    bodies = {
        "ok": wire.stream(5),
        "empty": head + tail,
        "no_end": head + wire.tokens(5, "t"),
        "flood": wire.stream(FLOOD_EVENTS),
    }
    if mode == "malformed":
        before = wire.tokens(MALFORMED_AT, "t")
        after = wire.tokens(STREAM_EVENTS - MALFORMED_AT - 1, "t", MALFORMED_AT + 1)
        bodies[mode] = head + before + wire.malformed() + after + tail
    if mode == "echo_event":
        secret = request.headers.get(wire.key_header, "")
        message = f"upstream refused the header {wire.key_header}: {secret}"
        bodies[mode] = head + wire.token(" t0") + wire.error_event(message)
    return await _write_all(request, iter([bodies[mode]]))


def _endless(wire: Wire) -> Iterator[bytes]:
    yield wire.head()
    i = 0
    while True:
        yield wire.tokens(20, "t", i)
        i += 20


async def _endless_mode(request: web.Request, mode: str) -> web.StreamResponse:
    return await _write_all(request, _endless(request[WIRE]), pause_s=0.001)


async def _trickle(request: web.Request, mode: str) -> web.StreamResponse:
    body = request[WIRE].stream(5)
    return await _write_all(request, (body[i : i + 1] for i in range(len(body))), pause_s=1.0)


async def _bomb(request: web.Request, mode: str) -> web.StreamResponse:
    response = _sse_response(**{"Content-Encoding": "gzip"})
    await response.prepare(request)
    with contextlib.suppress(ConnectionError):
        for piece in gzip_bomb(BOMB_BYTES):
            if request.transport is None:
                break
            await response.write(piece)
    return response


async def _long_line(request: web.Request, mode: str) -> web.StreamResponse:
    piece = b"x" * 65536
    lines = (b"data: " if i == 0 else piece for i in range(LONG_LINE_BYTES // 65536 + 1))
    return await _write_all(request, lines)


async def _chunk_break(request: web.Request, mode: str) -> web.StreamResponse:
    wire = request[WIRE]
    response = _sse_response()
    await response.prepare(request)
    await response.write(wire.head() + wire.token(" t0") + wire.token(" t1"))
    await asyncio.sleep(0.05)
    transport = request.transport
    if transport is not None:
        transport.write(b"zz-not-a-chunk-size\r\n\r\n")
        await asyncio.sleep(0.05)
        transport.close()
    return response


async def _html(request: web.Request, mode: str) -> web.StreamResponse:
    page = "<!DOCTYPE html>\n<html><head><title>Login</title></head>\x1b[31m<body>Sign in</body>"
    return web.Response(status=200, text=page, content_type="text/html")


async def _redirect(request: web.Request, mode: str) -> web.StreamResponse:
    location = request.app[ELSEWHERE] + request.path_qs
    return web.Response(status=302, headers={"Location": location})


async def _errors(request: web.Request, mode: str) -> web.StreamResponse:
    wire = request[WIRE]
    if mode == "big_error":
        status, message = 500, "overloaded " + "x" * BIG_ERROR_BYTES
    elif mode == "ansi_error":
        status, message = 503, f"overloaded {ANSI}"
    else:
        secret = request.headers.get(wire.key_header, "")
        status, message = 401, f"invalid credentials; the request had {wire.key_header}: {secret}"
    return web.json_response(wire.error_body(status, message), status=status)


MODES: dict[str, Handler] = {
    **dict.fromkeys(("ok", "empty", "no_end", "flood", "malformed", "echo_event"), _stream),
    "endless": _endless_mode,
    "trickle": _trickle,
    "gzip_bomb": _bomb,
    "long_line": _long_line,
    "chunk_break": _chunk_break,
    "html": _html,
    "redirect": _redirect,
    **dict.fromkeys(("big_error", "echo_error", "ansi_error"), _errors),
}


async def _mode_of(request: web.Request) -> str:
    """The header's mode, else the model named in the path (Gemini's ``/models/<model>:…``),
    else the body's ``model``."""
    mode = request.headers.get(MODE_HEADER)
    if mode is None and "target" in request.match_info:
        mode = request.match_info["target"].partition(":")[0]
    if mode is None:
        with contextlib.suppress(ValueError, AttributeError):
            mode = str((await request.json()).get("model"))
    return mode or ""


async def _chat(request: web.Request) -> web.StreamResponse:
    wire = request[WIRE] = wire_of(request.path)
    mode = await _mode_of(request)
    handler = MODES.get(mode)
    if handler is None:
        body = wire.error_body(404, f"unknown mode {mode!r}")
        return web.json_response(body, status=404)
    return await handler(request, mode)


async def _elsewhere(request: web.Request) -> web.StreamResponse:
    request.app[HITS].append(request.path)
    return await _write_all(request, iter([wire_of(request.path).stream(3, word="elsewhere")]))


class HostileServer:
    """The hostile server in a daemon thread: ``base_url`` is ``root`` + ``/v1``; :meth:`stop`
    ends it (and it ends itself after :data:`LIFETIME_S`)."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._main, self._other = _loopback_socket(), _loopback_socket()
        #: The server without a path (what LiteLLM's ``anthropic/`` and ``gemini/`` take).
        self.root = f"http://127.0.0.1:{self._main.getsockname()[1]}"
        self.base_url = self.root + "/v1"
        self.elsewhere = f"http://127.0.0.1:{self._other.getsockname()[1]}"
        #: The paths requested from the ``elsewhere`` site (a followed redirect lands there).
        self.elsewhere_hits: list[str] = []
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hostile-server", daemon=True)

    def start(self) -> HostileServer:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the hostile server did not start within 10 s")
        return self

    def stop(self) -> None:
        if self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        runners = self._loop.run_until_complete(self._serve())
        self._loop.call_later(LIFETIME_S, self._loop.stop)
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            for runner in runners:
                self._loop.run_until_complete(runner.cleanup())
            self._loop.close()

    async def _serve(self) -> list[web.AppRunner]:
        main = web.Application()
        main[ELSEWHERE] = self.elsewhere
        for path in CHAT_PATHS:
            main.router.add_post(path, _chat)
        other = web.Application()
        other[HITS] = self.elsewhere_hits
        other.router.add_route("*", "/{tail:.*}", _elsewhere)
        runners = []
        for app, sock in ((main, self._main), (other, self._other)):
            runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=1.0)
            await runner.setup()
            await web.SockSite(runner, sock).start()
            runners.append(runner)
        return runners


def _loopback_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock
