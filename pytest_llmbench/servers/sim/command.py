"""Command line: ``python -m pytest_llmbench.servers.sim --host 127.0.0.1 --port 0 …``.

Prints its ready line (:func:`~pytest_llmbench.servers.sim.server.ready_line`, flushed) once it is
listening, and stops cleanly on SIGTERM or SIGINT, or when the process ``--parent-pid`` names is no
longer its parent.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import signal
import socket
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from pytest_llmbench.servers.process import watch_parent
from pytest_llmbench.servers.sim.profile import SimConfig
from pytest_llmbench.servers.sim.server import ready_line
from pytest_llmbench.validation import Reader

__all__ = ["build_parser", "load_sim_config", "main"]

_SHUTDOWN_TIMEOUT_S = 0.25
_BACKLOG = 1024  # a load point opens its whole pool at once


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m pytest_llmbench.servers.sim`` / ``llmbench serve-sim``."""
    parser = argparse.ArgumentParser(
        prog="python -m pytest_llmbench.servers.sim",
        description="Streaming LLM simulator (OpenAI, Anthropic and Gemini wire formats).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=0, help="port (0 picks a free one)")
    parser.add_argument(
        "--profiles-json",
        type=Path,
        metavar="FILE",
        help='JSON file: {"default": {...}, "models": {"name": {...}}}',
    )
    parser.add_argument(
        "--profile",
        action="append",
        default=[],
        metavar="NAME=JSON",
        help="profile of model NAME ('default' sets the default profile); repeatable",
    )
    parser.add_argument("--log", type=Path, metavar="FILE", help="append JSON-lines records here")
    parser.add_argument(
        "--parent-pid", type=int, help="exit when this process is no longer our parent"
    )
    return parser


def load_sim_config(profiles_json: Path | None, profiles: Sequence[str]) -> SimConfig:
    """Combine ``--profiles-json`` and ``--profile`` (which wins per name) into a config."""
    raw: object = {}
    if profiles_json is not None:
        try:
            raw = json.loads(profiles_json.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ValueError(f"--profiles-json {profiles_json}: {exc}") from None
        if not isinstance(raw, dict):
            raise ValueError(f"--profiles-json {profiles_json}: must hold a JSON object")
    reader = Reader(raw, "sim")
    default = reader.data.get("default")
    models = dict(reader.get("models", Mapping, {}))
    for item in profiles:
        name, sep, text = item.partition("=")
        if not sep or not name:
            raise ValueError(f"--profile {item!r}: expected NAME=JSON")
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"--profile {name}: invalid JSON ({exc})") from None
        if name == "default":
            default = value
        else:
            models[name] = value
    return SimConfig.from_mapping({**reader.data, "default": default, "models": models})


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(_BACKLOG)
    sock.setblocking(False)
    return sock


def _soon(loop: asyncio.AbstractEventLoop, callback: Callable[[], object]) -> Callable[[], None]:
    """``callback`` to run on ``loop`` when called from another thread."""

    def call() -> None:
        with contextlib.suppress(RuntimeError):  # the loop has closed: we are stopping anyway
            loop.call_soon_threadsafe(callback)

    return call


async def _serve(config: SimConfig, args: argparse.Namespace) -> int:
    from aiohttp import web

    from pytest_llmbench.servers.sim.app import create_app
    from pytest_llmbench.servers.sim.log import TruthLog
    from pytest_llmbench.servers.sim.receipt import serve
    from pytest_llmbench.tokens import count_tokens

    count_tokens("warm up the tokenizer before the first request")
    log = TruthLog(args.log)
    runner = web.AppRunner(
        create_app(config, log), access_log=None, shutdown_timeout=_SHUTDOWN_TIMEOUT_S
    )
    await runner.setup()
    assert runner.server is not None  # set up
    # What start-up made (modules, aiohttp, the tokenizer: ~50,000 objects) stays for good: keep
    # it out of the collector's sight, or each full collection, which can fall in a burst, scans
    # it all (tens of ms on a small machine) rather than what the requests made.
    gc.collect()
    gc.freeze()
    sock = _bind(args.host, args.port)
    listener = await serve(runner.server, sock, _BACKLOG)
    port = sock.getsockname()[1]
    host = f"[{args.host}]" if ":" in args.host else args.host
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    watcher = None
    if args.parent_pid is not None:
        watcher = watch_parent(args.parent_pid, _soon(loop, stop.set))
    print(ready_line(f"http://{host}:{port}"), flush=True)
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        if watcher is not None:
            watcher.set()
        listener.close()  # no new connections; the runner's cleanup closes the open ones
        await runner.cleanup()
        log.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the simulator until SIGTERM/SIGINT; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        config = load_sim_config(args.profiles_json, args.profile)
    except ValueError as exc:
        print(f"llmbench sim: {exc}", file=sys.stderr)
        return 2
    from pytest_llmbench.servers.sim.pacing import new_event_loop

    loop = new_event_loop()
    try:
        asyncio.set_event_loop(loop)
        return loop.run_until_complete(_serve(config, args))
    except OSError as exc:
        print(f"llmbench sim: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    finally:
        asyncio.set_event_loop(None)
        loop.close()
