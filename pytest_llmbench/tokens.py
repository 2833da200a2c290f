"""Offline token counting with tiktoken's ``cl100k_base``.

tiktoken downloads its BPE file on first use unless the file is cached; this machine and many CI
runners have no route to that host. The file ships inside the package (``data/``) and is checked
against the sha256 that tiktoken itself publishes for it, so counting never touches the network and
never imports LiteLLM (which carries its own copy but takes seconds to import).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import tiktoken

__all__ = ["CL100K_SHA256", "count_tokens", "encoding"]

#: sha256 of ``cl100k_base.tiktoken`` as published in ``tiktoken_ext.openai_public``.
CL100K_SHA256 = "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"
_BPE_FILE = Path(__file__).parent / "data" / "cl100k_base.tiktoken"
# cl100k_base's split pattern and special tokens (facts of the encoding, as tiktoken defines them).
_PAT_STR = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+"""
    r"""|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
)
_SPECIAL_TOKENS = {
    "<|endoftext|>": 100257,
    "<|fim_prefix|>": 100258,
    "<|fim_middle|>": 100259,
    "<|fim_suffix|>": 100260,
    "<|endofprompt|>": 100276,
}


@functools.lru_cache(maxsize=1)
def encoding() -> tiktoken.Encoding:
    """Return the cl100k_base encoding, loaded from the shipped file (hash-checked)."""
    import tiktoken
    from tiktoken.load import load_tiktoken_bpe

    ranks = load_tiktoken_bpe(str(_BPE_FILE), expected_hash=CL100K_SHA256)
    return tiktoken.Encoding(
        name="cl100k_base",
        pat_str=_PAT_STR,
        mergeable_ranks=ranks,
        special_tokens=_SPECIAL_TOKENS,
    )


def count_tokens(text: str) -> int:
    """Number of cl100k_base tokens in ``text`` (special-token text is counted as plain text)."""
    if not text:
        return 0
    return len(encoding().encode_ordinary(text))
