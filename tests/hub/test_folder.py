"""What a model folder tells a lookup."""

from __future__ import annotations

import json


def test_sidecars_are_read_capped_and_a_bad_one_is_no_clue(tmp_path):
    """Only regular JSON-object companions up to the cap; a malformed one never stops a lookup."""
    from modeld.hub.folder import SIDECAR_MAX_BYTES, read_sidecars

    info = {"model": {"name": "Juggernaut"}, "url": "https://huggingface.co/a/b"}
    (tmp_path / "m.civitai.info").write_text(json.dumps(info))
    (tmp_path / "m.json").write_text('{"repo_id": "org/some-model"}')
    (tmp_path / "metadata.json").write_text('{"id": "ours"}')
    (tmp_path / "deep.json").write_text("[" * 200_000)  # nesting past the recursion limit
    (tmp_path / "broken.json").write_text("{not json")
    (tmp_path / "big.json").write_text('{"x": "' + "y" * SIDECAR_MAX_BYTES + '"}')
    (tmp_path / "notes.txt").write_text('{"repo_id": "org/ignored"}')
    (tmp_path / "link.json").symlink_to(tmp_path / "m.json")

    assert read_sidecars(tmp_path) == {
        "m.civitai.info": info,
        "m.json": {"repo_id": "org/some-model"},
    }
