"""pytest-llmbench: benchmark LLM endpoints (TTFT, tok/s, latency) as ordinary pytest tests."""

from __future__ import annotations

from .config import BenchConfig, ConfigError, ModelSpec, ProviderSpec, load_config
from .matrix import Case, Target
from .measure.metrics import Measurement, measure

__all__ = [
    "BenchConfig",
    "Case",
    "ConfigError",
    "Measurement",
    "ModelSpec",
    "ProviderSpec",
    "Target",
    "load_config",
    "measure",
]

__version__ = "0.1.0"
