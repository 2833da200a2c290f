"""Provider text made safe to record and show: the session's keys redacted, control characters
escaped.

What a server sends back can carry the caller's key (a proxy that repeats the request's
``Authorization`` header in a 401 body, an error event that quotes it) and terminal escapes
(clear the screen, set the window title, print a green "1 passed"). :class:`Redactor` holds the
keys; :meth:`Redactor.sanitize` is the one step every provider text takes before it is recorded or
shown: redact, then escape. It runs after a stream ended, never in the receive loop.

Keys shorter than :data:`MIN_SECRET_CHARS` are not redacted: they are placeholders that local
servers accept (``EMPTY``, ``none``, ``sk-1234``), and replacing them everywhere would wreck text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, quote_plus

from ..matrix import Target

__all__ = [
    "MARK",
    "MIN_CUT_CHARS",
    "MIN_SECRET_CHARS",
    "Redactor",
    "escape_controls",
    "secret_forms",
]

#: What a key is replaced with (as :class:`~pytest_llmbench.matrix.Secret` shows itself).
MARK = "***"
#: Shorter keys are placeholders, not secrets (see the module's docstring).
MIN_SECRET_CHARS = 8
#: A text that ends in at least this many of a key's first characters ends in a cut key.
MIN_CUT_CHARS = 6

#: C0 controls but tab and newline, DEL, and C1 controls (U+0080–U+009F, CSI among them).
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_PERCENT = re.compile("%[0-9A-F]{2}")


def _shown(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group()):02x}"


def escape_controls(text: str) -> str:
    """``text`` with every control character but newline and tab shown as ``\\xNN``: an ANSI
    sequence (``ESC [ 2 J``, ``ESC ] 0 ; title BEL``) loses its ESC and reads as text. A CR LF
    pair becomes a newline; a lone CR (which rewrites a terminal line) is escaped."""
    if _CONTROLS.search(text) is None:
        return text
    return _CONTROLS.sub(_shown, text.replace("\r\n", "\n"))


def secret_forms(secret: str) -> set[str]:
    """The forms of ``secret`` a server may echo back.

    The key as sent (``Bearer <key>`` and ``x-api-key: <key>`` contain it) and without surrounding
    whitespace; percent-encoded as in a URL's query (Gemini's ``?key=``), with upper- and
    lower-case hex; and escaped inside a JSON string. Base64 is left out: nothing the clients send
    carries a key in base64 (no Basic auth), so no server has one to echo.
    """
    forms = {secret, secret.strip()}
    for encoded in (quote(secret, safe=""), quote_plus(secret, safe="")):
        forms |= {encoded, _PERCENT.sub(lambda m: m.group().lower(), encoded)}
    forms.add(json.dumps(secret)[1:-1])
    forms.add(json.dumps(secret, ensure_ascii=False)[1:-1])
    return {form for form in forms if len(form) >= MIN_SECRET_CHARS}


class Redactor:
    """Replaces every form of the keys it holds with :data:`MARK`, and escapes control
    characters; without keys it only escapes."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        forms: set[str] = set()
        for secret in secrets:
            if len(secret.strip()) >= MIN_SECRET_CHARS:
                forms |= secret_forms(secret)
        self._forms = tuple(sorted(forms, key=lambda f: (-len(f), f)))  # longest first
        self._pattern = re.compile("|".join(map(re.escape, self._forms))) if forms else None

    @classmethod
    def for_targets(cls, targets: Iterable[Target]) -> Redactor:
        """A redactor for the keys of ``targets`` (those that have one)."""
        return cls(t.api_key.reveal() for t in targets if t.api_key is not None)

    @property
    def holds_keys(self) -> bool:
        return self._pattern is not None

    def redact(self, text: str) -> str:
        """``text`` with every form of every key replaced, and a key cut short at its end (the
        clients keep the first 500 characters of an error body) removed too."""
        if self._pattern is None:
            return text
        return self._cut_tail(self._pattern.sub(MARK, text))

    def _cut_tail(self, text: str) -> str:
        for form in self._forms:
            head = form[:MIN_CUT_CHARS]
            at = text.find(head, max(0, len(text) - len(form) + 1))
            while at >= 0:
                if form.startswith(text[at:]):
                    return text[:at] + MARK
                at = text.find(head, at + 1)
        return text

    def sanitize(self, text: str) -> str:
        """Provider text ready to record and show: keys redacted, control characters escaped."""
        return escape_controls(self.redact(text))

    def scrub(self, value: Any) -> Any:
        """``value`` with every string in it sanitized: mappings (their values; keys are the
        record's own field names), lists and tuples are walked, other values kept."""
        if isinstance(value, str):
            return self.sanitize(value)
        if isinstance(value, Mapping):
            return {key: self.scrub(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.scrub(item) for item in value]
        if isinstance(value, tuple):
            return tuple(self.scrub(item) for item in value)
        return value
