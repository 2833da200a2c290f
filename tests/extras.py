"""Markers for tests that need an optional extra, decided without importing it.

``pytest.importorskip("litellm")`` would import LiteLLM at collection (seconds) before the plugin
has set ``LITELLM_LOCAL_MODEL_COST_MAP``, and LiteLLM would then try to fetch its cost map.
"""

from importlib.util import find_spec

import pytest

HAS_LITELLM = find_spec("litellm") is not None
needs_litellm = pytest.mark.skipif(not HAS_LITELLM, reason="the [litellm] extra is not installed")
