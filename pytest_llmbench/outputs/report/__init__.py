"""The HTML report: one self-contained page from one or more results JSON documents.

``render_html([document])`` is a run report; several documents (ordered by ``metadata.started``)
make a history report with trends and a comparison of any two runs. Pure rendering: no network,
no external resources; every string from a model, a config or an error is escaped.
"""

from __future__ import annotations

from .load import ReportInputError, load_document
from .page import render_html, write_html

__all__ = ["ReportInputError", "load_document", "render_html", "write_html"]
