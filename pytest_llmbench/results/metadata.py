"""What a results file says about its run: when, the command, the machine, versions, settings."""

from __future__ import annotations

import datetime as _dt
import os
import platform
import subprocess
import sys
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

from ..config.options import Settings

__all__ = ["VERSIONS_OF", "run_metadata"]

#: The distributions whose versions every results file records.
VERSIONS_OF = ("pytest-llmbench", "pytest", "aiohttp", "litellm", "tiktoken", "pytest-xdist")


def _git_commit(rootdir: Path) -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=rootdir,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def _version(name: str) -> str | None:
    try:
        return importlib_metadata.version(name)
    except importlib_metadata.PackageNotFoundError:
        return None


def run_metadata(
    settings: Settings,
    started: _dt.datetime,
    args: tuple[str, ...],
    cwd: Path,
    config: dict[str, Any] | None,
    baseline: dict[str, Any] | None,
) -> dict[str, Any]:
    """The ``metadata`` of a results document; ``config`` is the redacted config (no keys)."""
    ended = _dt.datetime.now(_dt.timezone.utc)
    return {
        "started": started.isoformat(),
        "ended": ended.isoformat(),
        "duration_s": (ended - started).total_seconds(),
        "command": " ".join(["pytest", *args]),
        "cwd": str(cwd),
        "git_commit": _git_commit(settings.rootdir),
        "platform": {
            "system": platform.platform(),
            "machine": platform.machine(),
            "python": sys.version.split()[0],
            "cpus": os.cpu_count(),
        },
        "versions": {name: _version(name) for name in VERSIONS_OF},
        "settings": {
            "runs": settings.runs,
            "providers": list(settings.providers),
            "model_filter": settings.model_filter,
            "context_tiers": list(settings.context_tiers or ()) or None,
            "max_tokens": settings.max_tokens,
            "temperature": settings.temperature,
            "timeout_s": settings.timeout_s,
        },
        "config": config,
        "baseline": baseline,
    }
