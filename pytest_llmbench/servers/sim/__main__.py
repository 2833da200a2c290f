"""``python -m pytest_llmbench.servers.sim``: run the streaming LLM simulator."""

from __future__ import annotations

import sys

from pytest_llmbench.servers.sim.command import main

if __name__ == "__main__":
    sys.exit(main())
