"""A model card's first real paragraph, as a one-line description (pure).

READMEs open with YAML front matter, badges, HTML, headings and tables; the
first paragraph of plain prose after those is what a person would quote.
"""

from __future__ import annotations

import re

MAX_CARD_BYTES = 256 * 1024
MAX_SUMMARY = 400
MIN_PROSE = 40

_FRONT_MATTER = re.compile(r"\A---\s*\n.*?\n---\s*(\n|\Z)", re.DOTALL)
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_EMPHASIS = re.compile(r"(\*\*|__|\*|`)")
_SPACE = re.compile(r"\s+")


def card_summary(markdown: str, limit: int = MAX_SUMMARY) -> str:
    """The first prose paragraph of a model card, plain text, at most `limit` characters."""
    text = _HTML_COMMENT.sub("", _FRONT_MATTER.sub("", markdown, count=1))
    in_code = False
    paragraph: list[str] = []
    for raw in [*text.splitlines(), ""]:
        line = raw.strip()
        if line.startswith("```"):
            in_code = not in_code
            continue
        if in_code:
            continue
        if not line or line.startswith(("#", "|", ">", "- ", "* ", "---", "===")):
            candidate = _clean(" ".join(paragraph))
            if len(candidate) >= MIN_PROSE:
                return _shorten(candidate, limit)
            paragraph = []
            continue
        paragraph.append(line)
    return ""


def _clean(text: str) -> str:
    text = _IMAGE.sub("", text)
    text = _LINK.sub(r"\1", text)
    text = _TAG.sub("", text)
    text = _EMPHASIS.sub("", text)
    return _SPACE.sub(" ", text).strip()


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "…"
