"""The HTML report: one self-contained page from one or more results JSON documents.

``render_html([document])`` is a run report; several documents (ordered by ``metadata.started``)
make a history report with trends and a comparison of any two runs. Pure rendering: no network,
no external resources; every string from a model, a config or an error is escaped.

How it is built, in the order data flows: ``load`` reads a results file; ``model`` extracts the
:class:`~.model.Run` the page shows (its numbers through ``summary``); each section of the page is
a panel module (``*_panel.py``, or ``*_panels.py`` for a few related sections) that takes the
``Run`` and returns markup, built from the shared parts: ``layout`` (the section frame and the
labels every section shares), ``markup`` (escaping, numbers, tables, figures), ``charts`` and
``svg`` (the charts), ``glossary`` (the report's labels and tooltips; units and better directions
are the schema's) and ``compare`` (the rule for a change between runs). The load mode's part:
``load_model`` (the points and capacities, part of the ``Run``), ``load_charts`` (its chart kinds)
and ``load_plots`` (its figures) behind ``load_panel`` and ``load_history_panel``. ``page`` puts
the panels in order with the stylesheet and script of ``assets``. Panels never import each other.
"""

from __future__ import annotations

from .load import ReportInputError, load_document
from .page import render_html, report_csp, write_html

__all__ = ["ReportInputError", "load_document", "render_html", "report_csp", "write_html"]
