"""``llmbench dashboard [--config config.yaml] [--host 127.0.0.1] [--port 8501] [--token T]``."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    from .guard import TOKEN_ENV

    parser = argparse.ArgumentParser(
        prog="llmbench dashboard",
        description="Serve the dashboard of a project: its targets, keys, runs and results.",
    )
    parser.add_argument("--config", default="config.yaml", help="the project's config.yaml")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (loopback)")
    parser.add_argument("--port", type=int, default=8501)
    parser.add_argument(
        "--token", default=None, help=f"a token every request must carry (or {TOKEN_ENV})"
    )
    return parser


def main(argv: Sequence[str]) -> int:
    from .guard import TOKEN_ENV, BindingRefused, check_binding

    parser = _parser()
    options = parser.parse_args(argv)
    token = options.token or os.environ.get(TOKEN_ENV) or None
    config = Path(options.config).resolve()
    if not config.is_file():
        parser.exit(2, f"llmbench dashboard: error: no config at {config}\n")
    try:
        check_binding(options.host, token)
    except BindingRefused as exc:
        parser.exit(2, f"llmbench dashboard: error: {exc}\n")
    try:
        import uvicorn

        from .project import Project
        from .site import dashboard_app
    except ImportError as exc:
        parser.exit(2, f"llmbench dashboard: error: {exc.name} is not installed: "
                       "pip install 'pytest-llmbench[dashboard]'\n")  # fmt: skip
    app = dashboard_app(Project(config), token)
    print(f"dashboard of {config} on http://{options.host}:{options.port}/", flush=True)
    uvicorn.run(app, host=options.host, port=options.port, log_level="warning")
    return 0
