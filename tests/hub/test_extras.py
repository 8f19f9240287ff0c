"""A confirmed match's extras: the card's summary and a preview image."""

from __future__ import annotations

from pathlib import Path

from modeld.config import load_config
from modeld.library.db import open_index
from modeld.library.layout import ensure_library
from tests.hub.conftest import write_hub_config
from tests.hub.fakehub import FakeHub
from tests.hub.wiring import PNG, Setup, sdxl_file, wait_until


def test_a_confirmed_repo_card_becomes_the_searchable_description(
    online: FakeHub, setup: Setup, drop: Path
):
    """The card is fetched with plain requests, after the match is confirmed by hash."""
    from modeld.library.search import search

    path = sdxl_file(drop, "Carded-XL")
    online.add_repo(
        "studio/carded-xl",
        {"carded.safetensors": path},
        readme="---\nlicense: mit\n---\n# Carded XL\n\nCarded XL paints "
        "watercolour landscapes with a soft, grainy finish and muted colours.\n",
    )
    model = setup.import_file(path)
    setup.enricher.start()
    # hub_match comes last, after metadata.json and the index row are written
    assert wait_until(lambda: any(e["event"] == "hub_match" for e in setup.events))
    meta = setup.metadata(model)
    assert meta.hub["confirmed"]
    assert meta.description.startswith("Carded XL paints watercolour landscapes")
    assert [r.name for r in search("watercolour")] == [model["name"]]
    card_requests = [r for r in online.requests if r.path.endswith("/README.md")]
    assert len(card_requests) == 1 and card_requests[0].method == "GET"
    matches = [e for e in setup.events if e["event"] == "hub_match"]
    assert [(e["id"], e["repo_id"]) for e in matches] == [(model["id"], "studio/carded-xl")]


def test_a_confirmed_repo_brings_its_preview_image_beside_the_weights(
    online: FakeHub, setup: Setup, drop: Path
):
    path = sdxl_file(drop, "Ink-Wash-XL")
    repo = online.add_repo(
        "studio/ink-wash-xl",
        {
            path.name: path,
            "images/00001.png": PNG + b"second choice",
            "images/sample-grid.png": PNG,  # says it is a sample: preferred
            "huge.png": ("ab" * 32, 50 * 1024 * 1024),  # over the cap: never asked for
        },
    )
    model = setup.import_file(path)
    setup.enricher.start()
    assert wait_until(lambda: any(e["event"] == "hub_match" for e in setup.events))

    meta = setup.metadata(model)
    assert meta.hub["preview"] == "images/sample-grid.png"
    folder = Path(model["path"])
    assert (folder / "Ink-Wash-XL.preview.png").read_bytes() == PNG
    assert [f.name for f in meta.files] == ["Ink-Wash-XL.safetensors", "Ink-Wash-XL.preview.png"]
    downloads = [r.path for r in online.requests if "/resolve/" in r.path]
    # from the very revision whose file matched
    assert downloads == [f"/studio/ink-wash-xl/resolve/{repo.sha}/images/sample-grid.png"]
    assert meta.hub["confirmed"] and meta.sha256 == model["sha256"]


def test_no_preview_when_the_model_has_its_own_or_the_bytes_are_no_image(
    online: FakeHub, setup: Setup, drop: Path
):
    own = sdxl_file(drop, "Own-Preview")
    (drop / "Own-Preview.preview.jpg").write_bytes(b"\xff\xd8\xff\xe0 the user's own")
    lying = sdxl_file(drop, "Lying-Preview")
    online.add_repo("a/own-preview", {own.name: own, "preview.png": PNG})
    liar = online.add_repo(
        "b/lying-preview", {lying.name: lying, "preview.png": b"<html>nope</html>"}
    )
    models = [setup.import_file(own), setup.import_file(lying)]
    setup.enricher.start()
    assert wait_until(lambda: len([e for e in setup.events if e["event"] == "hub_match"]) == 2)
    own_meta, lying_meta = (setup.metadata(m) for m in models)
    assert sorted(f.name for f in own_meta.files) == [
        "Own-Preview.preview.jpg",
        "Own-Preview.safetensors",
    ]
    assert not any("/a/own-preview/resolve/" in r.path for r in online.requests)
    # fetched, then refused: the bytes are HTML, whatever the name says
    wanted = f"/b/lying-preview/resolve/{liar.sha}/preview.png"
    assert any(r.path == wanted for r in online.requests)
    assert [f.name for f in lying_meta.files] == ["Lying-Preview.safetensors"]


def test_previews_off_fetches_none(online: FakeHub, home: Path, drop: Path):
    config = load_config(write_hub_config(home, extra="previews = false\n"))
    ensure_library(config.library_root)
    db = open_index(config.index_path)
    wired = Setup(config)
    try:
        path = sdxl_file(drop, "Previews-Off")
        online.add_repo("c/previews-off", {path.name: path, "preview.png": PNG})
        model = wired.import_file(path)
        wired.enricher.start()
        assert wait_until(lambda: any(e["event"] == "hub_match" for e in wired.events))
        assert [f.name for f in wired.metadata(model).files] == ["Previews-Off.safetensors"]
        assert not any("/resolve/" in r.path for r in online.requests)
    finally:
        wired.enricher.stop()
        db.close()
