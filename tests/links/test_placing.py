"""Placing new links: the names tried for a model when its preferred name is taken."""

from __future__ import annotations

from modeld.links.placing import candidates


def test_suffix_candidates():
    tag = "0123456789abcdef" * 4
    assert candidates("a.safetensors", False, tag, "skip") == ["a.safetensors"]
    assert candidates("a.safetensors", False, tag, "suffix")[:3] == [
        "a.safetensors",
        "a-01234567.safetensors",
        "a-0123456789abcdef.safetensors",
    ]
    assert candidates("My.Model", True, tag, "suffix")[1] == "My.Model-01234567"
