"""The ``llmbench`` console script: subcommands beside the pytest plugin.

``llmbench serve-sim [ARGS]`` runs the built-in streaming server in the foreground (the same one
the ``embedded`` targets use); ``llmbench serve-sim --help`` lists its arguments.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="llmbench", description="pytest-llmbench tools (the benchmarks run with pytest)."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser(
        "serve-sim",
        help="run the built-in OpenAI/Anthropic/Gemini-compatible streaming simulator",
        add_help=False,
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    namespace, _ = _parser().parse_known_args(args[:1])
    if namespace.command == "serve-sim":
        from .server.cli import main as serve_main

        return serve_main(args[1:])
    return 2  # pragma: no cover - argparse has already rejected anything else


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
