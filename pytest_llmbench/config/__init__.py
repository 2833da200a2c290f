"""The config stage: ``config.yaml`` and the ``--llm-*`` options, validated and frozen.

Every problem is a :class:`ConfigError` (file, key, problem) or a pytest usage error naming the
option; both stop the session with exit code 4 before any request is sent.
"""

from .loader import load_config
from .options import Settings
from .reader import ConfigError
from .spec import BenchConfig, ConversationSpec, Defaults, ModelSpec, ProviderSpec

__all__ = [
    "BenchConfig",
    "ConfigError",
    "ConversationSpec",
    "Defaults",
    "ModelSpec",
    "ProviderSpec",
    "Settings",
    "load_config",
]
