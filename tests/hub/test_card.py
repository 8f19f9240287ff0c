from modeld.hub.card import card_summary

CARD = """---
license: openrail++
tags: [text-to-image]
---
<!-- generated -->
# SDXL Turbo

![banner](https://example.com/banner.png) [![badge](b.svg)](https://x)

| col | col |
|-----|-----|

SDXL-Turbo is a **fast** generative text-to-image model that can synthesize
photorealistic images from a text prompt in a single network evaluation. See
[the paper](https://example.com/paper) for details.

## Usage
```python
print("not prose")
```
"""


def test_first_prose_paragraph_plain_text():
    assert card_summary(CARD) == (
        "SDXL-Turbo is a fast generative text-to-image model that can synthesize "
        "photorealistic images from a text prompt in a single network evaluation. "
        "See the paper for details."
    )


def test_long_paragraphs_are_cut_on_a_word():
    text = "word " * 200
    summary = card_summary(text, limit=50)
    assert len(summary) <= 50 and summary.endswith("…")
    assert "wor…" not in summary


def test_cards_without_prose_give_nothing():
    assert card_summary("---\nlicense: mit\n---\n# Title\n\n![img](x.png)\n") == ""
    assert card_summary("") == ""
    assert card_summary("```\ncode only, long enough to look like a paragraph of text\n```") == ""
