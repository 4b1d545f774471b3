"""Every in-page link of the README leads to one of its headings (as GitHub names their anchors),
and the guide keeps its sections in the order a new user reads them."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"

GUIDE_ORDER = (
    "## Quick start",
    "## Guide",
    "### Walk-through on the sandbox: from nothing to a cached image",
    "### On a real account",
    "### Watching the cache",
    "### Many accounts and regions",
    "### Plans in pull-request pipelines",
    "### Troubleshooting",
    "### FAQ",
    "## Reference",
    "### Commands",
    "## What ecrcache guarantees",
    "## Development",
    "### How it is built",
    "### Dependencies",
)


def _headings(text: str) -> list[str]:
    """Markdown headings outside fenced code blocks."""
    out, fenced = [], False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and re.match(r"#{1,6} ", line):
            out.append(line)
    return out


def _anchor(heading: str) -> str:
    # GitHub's rule: lower case, drop what is not a word character, space or hyphen, spaces → -.
    title = heading.lstrip("#").strip().lower()
    return re.sub(r"[^\w\- ]", "", title).replace(" ", "-")


def test_in_page_links_resolve() -> None:
    text = README.read_text()
    anchors = {_anchor(h) for h in _headings(text)}
    links = set(re.findall(r"\]\(#([^)]+)\)", text))
    assert links, "the README links within itself"
    assert links <= anchors, sorted(links - anchors)


def test_the_guide_comes_before_the_reference() -> None:
    headings = _headings(README.read_text())
    at = [headings.index(h) for h in GUIDE_ORDER]
    assert at == sorted(at)
