"""Enriching one model (lookup_now): cached answers, and what is recorded in metadata.json."""

from __future__ import annotations

from modeld.library.db import ModelRecord
from tests.hub.fakehub import FakeHub
from tests.hub.wiring import Setup, sdxl_file


def test_answers_are_cached_by_sha256_hits_and_misses(online: FakeHub, setup: Setup, drop):
    found = sdxl_file(drop, "Cached-Model")
    online.add_repo("org/Cached-Model", {found.name: found})
    unknown = sdxl_file(drop, "Nowhere-Model")
    models = [setup.import_file(found), setup.import_file(unknown)]
    ids = [m["id"] for m in models]

    first = setup.enricher.lookup_now(ids)
    assert [r.state for r in first] == ["confirmed", "not_found"]
    sent = len(online.requests)
    assert sent > 0

    # a miss is not asked again within the TTL; a confirmed model is not asked at all
    again = setup.enricher.lookup_now(ids)
    assert [r.state for r in again] == ["confirmed", "not_found"]
    assert [r.cached for r in again] == [True, True]
    assert len(online.requests) == sent

    # --refresh asks the Hub again
    refreshed = setup.enricher.lookup_now(ids, refresh=True)
    assert [r.state for r in refreshed] == ["confirmed", "not_found"]
    assert len(online.requests) > sent


def test_unconfirmed_suggestions_are_kept_apart_from_hub(online: FakeHub, setup: Setup, drop):
    path = sdxl_file(drop, "Lookalike-Model")
    online.add_repo("org/Lookalike-Model", {path.name: ("99" * 32, 123)})
    model = setup.import_file(path)
    [result] = setup.enricher.lookup_now([model["id"]])
    assert result.state == "unconfirmed"
    meta = setup.metadata(model)
    assert meta.hub is None
    assert meta.extra["hub_suggestions"][0]["repo_id"] == "org/Lookalike-Model"
    assert meta.extra["hub_suggestions"][0]["reason"] == "same_file_name"
    assert meta.extra["hub_lookup"]["state"] == "miss"
    assert ModelRecord.get(ModelRecord.model_id == model["id"]).hub is None
