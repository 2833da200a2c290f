"""``python -m pytest_llmbench.server``: run the streaming LLM simulator."""

from __future__ import annotations

import sys

from pytest_llmbench.server.cli import main

if __name__ == "__main__":
    sys.exit(main())
