"""Choosing and naming a repo's preview image (pure)."""

from __future__ import annotations

from modeld.hub.preview import MAX_PREVIEW_BYTES, image_suffix, pick_preview, preview_name
from modeld.hub.repos import RepoFileInfo


def files(*paths: str, size: int = 1000) -> list[RepoFileInfo]:
    return [RepoFileInfo(path, size, None) for path in paths]


def test_an_image_named_after_the_file_wins_then_a_sample_then_any_shallow_one():
    repo = files(
        "docs/a.png", "z.webp", "images/showcase.jpg", "ink.preview.png", "ink.safetensors"
    )
    assert pick_preview(repo, "ink.safetensors") == "ink.preview.png"
    repo = files("docs/a.png", "z.webp", "images/showcase.jpg", "ink.safetensors")
    assert pick_preview(repo, "ink.safetensors") == "images/showcase.jpg"
    assert pick_preview(files("docs/a.png", "z.webp"), "ink.safetensors") == "z.webp"


def test_no_image_or_only_oversized_or_unsized_ones_is_none():
    assert pick_preview(files("ink.safetensors", "README.md"), "ink.safetensors") is None
    huge = files("preview.png", size=MAX_PREVIEW_BYTES + 1)
    unsized = [RepoFileInfo("sample.png", None, None)]
    assert pick_preview(huge + unsized, "ink.safetensors") is None


def test_the_bytes_name_the_format():
    assert image_suffix(b"\x89PNG\r\n\x1a\n....") == ".png"
    assert image_suffix(b"\xff\xd8\xff\xe0....") == ".jpg"
    assert image_suffix(b"RIFF\x10\x00\x00\x00WEBPVP8 ") == ".webp"
    assert image_suffix(b"<html>a page named .png</html>") is None
    assert image_suffix(b"version https://git-lfs.github.com/spec/v1") is None


def test_the_preview_is_named_after_the_weights():
    assert preview_name("Ink-Wash-XL.safetensors", ".jpg") == "Ink-Wash-XL.preview.jpg"
    assert preview_name("a.Q4_K_M.gguf", ".png") == "a.Q4_K_M.preview.png"
