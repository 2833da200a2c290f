"""What every section of the page shares: its frame, the empty state, and the labels and series
styles that must read the same in every section."""

from __future__ import annotations

from .markup import Markup, esc
from .model import Group, Run

__all__ = ["group_label", "none", "section", "styles", "tier_text"]


def section(title: str, body: Markup, *, section_id: str, intro: str = "") -> Markup:
    """A page section: its heading (the table of contents links to ``section_id``), an optional
    introduction, and its body."""
    lead = f'<p class="intro">{esc(intro)}</p>' if intro else ""
    return Markup(
        f'<section id="{esc(section_id)}"><h2>{esc(title)}</h2>{lead}{esc(body)}</section>'
    )


def none(text: str = "none") -> Markup:
    """What a section shows when it has nothing to show."""
    return Markup(f'<p class="none">{esc(text)}</p>')


def tier_text(tier: int | None) -> str:
    """A context tier as shown everywhere ('5,000'; '—' for none)."""
    return "—" if tier is None else f"{tier:,}"


def group_label(run: Run, group: Group) -> str:
    """A target × tier as shown everywhere ('GLM-4.6 · tier 5,000')."""
    return f"{run.label(group.target)} · tier {tier_text(group.tier)}"


def styles(run: Run) -> dict[str, int]:
    """A fixed style index (shape, dash, colour) per target, the same in every chart."""
    return {target: i for i, target in enumerate(run.targets)}
