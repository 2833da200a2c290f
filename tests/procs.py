"""Which processes are alive: for the tests that a server leaves nothing behind."""

from __future__ import annotations

from pathlib import Path


def alive(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def processes_with(*markers: str) -> list[int]:
    """Pids of live processes whose command line contains every one of ``markers``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if all(marker in cmdline for marker in markers) and alive(int(entry.name)):
            found.append(int(entry.name))
    return found
