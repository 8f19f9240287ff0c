"""The background worker with the real import pipeline, a real index and a fake Hub."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from modeld.config import Config, load_config
from modeld.hub import HubDisabled, HubEnricher
from modeld.hub.client import HubPolicy
from modeld.hub.retry import RetryPolicy
from modeld.ingest.pipeline import Importer
from modeld.library.db import ModelRecord, open_index
from modeld.library.layout import ensure_library
from modeld.library.metadata import read_metadata
from tests.hub.conftest import write_hub_config
from tests.hub.fakehub import FakeHub
from tests.hub.wiring import FAST, WAIT, Setup, sdxl_file, tiny_gguf, wait_until


def test_imports_are_enriched_in_the_background(online: FakeHub, setup: Setup, drop: Path):
    gguf = tiny_gguf(drop)
    checkpoint = sdxl_file(drop, "Juggernaut-XL-v9")
    online.add_repo("acme/Tiny-Llama-1B-Chat", {"model.safetensors": ("11" * 32, 10)})
    online.add_repo(
        "acme/Tiny-Llama-1B-Chat-GGUF",
        {gguf.name: gguf},
        license="apache-2.0",
        pipeline_tag="text-generation",
        base_model=["acme/Tiny-Llama-1B-Chat"],
        downloads=77,
    )
    online.add_repo(
        "RunDiffusion/Juggernaut-XL-v9",
        {checkpoint.name: checkpoint},
        license="creativeml-openrail-m",
        pipeline_tag="text-to-image",
        downloads=5000,
    )
    setup.enricher.start()

    llm = setup.import_file(gguf)
    sdxl = setup.import_file(checkpoint)
    assert setup.enricher.wait_idle(WAIT)

    for model, repo_id, found_via in (
        (llm, "acme/Tiny-Llama-1B-Chat-GGUF", "gguf_sibling"),
        (sdxl, "RunDiffusion/Juggernaut-XL-v9", "file_name"),
    ):
        meta = setup.metadata(model)
        assert meta.hub["repo_id"] == repo_id
        assert meta.hub["confirmed"] is True and meta.hub["match"] == "lfs_sha256"
        assert meta.hub["found_via"] == found_via
        assert meta.extra["hub_lookup"]["state"] == "done"
        assert meta.extra["hub_lookup"]["attempts"] == 1
        record = ModelRecord.get(ModelRecord.model_id == model["id"])
        assert json.loads(record.hub) == meta.hub  # the index follows metadata.json
    assert setup.metadata(llm).hub["license"] == "apache-2.0"
    assert setup.enricher.status()["state"] == "online"


def test_an_import_never_waits_for_the_hub(online: FakeHub, setup: Setup, drop: Path):
    online.hang()
    try:
        setup.enricher.start()
        first = setup.import_file(sdxl_file(drop, "First-Model"))
        assert wait_until(lambda: online.in_flight == 1)  # the worker is stuck on the Hub...
        second = setup.import_file(sdxl_file(drop, "Second-Model"))
        # ...and the import still completed, with the Hub call still hanging
        assert online.in_flight == 1
        assert Path(second["path"], "Second-Model.safetensors").is_file()
        assert setup.metadata(first).hub is None
    finally:
        online.release()


def test_hub_down_stops_calls_and_keeps_lookups_pending(online: FakeHub, setup: Setup, drop):
    online.down("reset")
    setup.enricher.start()
    models = [setup.import_file(sdxl_file(drop, f"Model-{i}")) for i in range(5)]
    assert setup.enricher.wait_idle(WAIT)

    # two failed connections opened the circuit; the other lookups did not even try
    assert len(online.requests) == FAST.breaker_threshold
    for _ in range(3):
        assert setup.enricher.retry_pending() == 5
        assert setup.enricher.wait_idle(WAIT)
    assert len(online.requests) == FAST.breaker_threshold

    status = setup.enricher.status()
    assert status["state"] == "offline"
    assert 0 < status["next_try"] <= 60
    assert status["pending"] == 5
    [event] = setup.events
    assert event["event"] == "hub" and event["state"] == "offline" and event["next_try"] > 0
    first = setup.metadata(models[0]).extra["hub_lookup"]
    assert first["state"] == "pending" and first["attempts"] == 1 and first["error"]
    assert all(setup.metadata(m).hub is None for m in models)


def test_everything_is_enriched_after_the_hub_returns(online: FakeHub, library: Config, drop):
    policy = HubPolicy(
        timeout=WAIT,
        retry=RetryPolicy(max_attempts=1, base_delay=0.01, max_delay=0.02),
        breaker_threshold=1,
        breaker_cooldown=0.3,
        breaker_max_cooldown=0.3,
    )
    wired = Setup(library, policy)
    try:
        online.down("reset")
        wired.enricher.start()
        files = [sdxl_file(drop, f"Comeback-{i}") for i in range(3)]
        for path in files:
            online.add_repo(f"org/{path.stem}", {path.name: path})
        models = [wired.import_file(path) for path in files]
        assert wait_until(lambda: wired.enricher.status()["state"] == "offline")
        online.up()
        # no one calls retry_pending: the enricher tries again when the cool-down ends.
        # hub_match is emitted after metadata.json is written, so wait for the events.
        ids = {m["id"] for m in models}

        def matched() -> set[str]:
            return {e["id"] for e in wired.events if e["event"] == "hub_match"}

        assert wait_until(lambda: matched() == ids), matched()
        assert all(wired.metadata(m).hub for m in models)
        assert [e["state"] for e in wired.events if e["event"] == "hub"] == ["offline", "online"]
        assert wired.enricher.status()["state"] == "online"
        assert all(wired.metadata(m).extra["hub_lookup"]["state"] == "done" for m in models)
    finally:
        wired.enricher.stop()


def test_offline_env_means_zero_requests(online: FakeHub, setup: Setup, drop, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    online.add_repo("org/Offline-Model", {"Offline-Model.safetensors": ("11" * 32, 1)})
    setup.enricher.start()
    model = setup.import_file(sdxl_file(drop, "Offline-Model"))
    assert setup.enricher.retry_pending() == 0
    assert setup.enricher.wait_idle(WAIT)
    with pytest.raises(HubDisabled, match="HF_HUB_OFFLINE"):
        setup.enricher.lookup_now()
    assert setup.enricher.status() == {
        "state": "disabled",
        "next_try": None,
        "reason": "HF_HUB_OFFLINE is set",
        "queued": 0,
    }
    assert online.requests == []
    assert "hub_lookup" not in setup.metadata(model).extra


def test_disabled_hub_means_zero_requests(online: FakeHub, home: Path, drop: Path):
    config = load_config(write_hub_config(home, enabled=False))
    ensure_library(config.library_root)
    db = open_index(config.index_path)
    wired = Setup(config)
    try:
        wired.enricher.start()
        wired.import_file(sdxl_file(drop, "Disabled-Model"))
        assert wired.enricher.retry_pending() == 0
        assert wired.enricher.wait_idle(WAIT)
        with pytest.raises(HubDisabled, match=r"hub\.enabled = false"):
            wired.enricher.lookup_now()
        assert wired.enricher.status()["state"] == "disabled"
        assert online.requests == []
    finally:
        wired.enricher.stop()
        db.close()


def test_models_imported_while_disabled_are_found_by_retry_pending(
    online: FakeHub, library: Config, drop: Path
):
    quiet = Importer(library)  # no hook: as if the hub had been disabled
    path = sdxl_file(drop, "Late-Model")
    online.add_repo("org/Late-Model", {path.name: path})
    report = quiet.import_paths([path], copy=False)
    model = report.imported[0]
    enricher = HubEnricher(library, policy=FAST)
    try:
        enricher.start()
        assert enricher.retry_pending() == 1
        assert enricher.wait_idle(WAIT)
        assert read_metadata(Path(model["path"])).hub["repo_id"] == "org/Late-Model"
        assert enricher.retry_pending() == 0  # done is done
    finally:
        enricher.stop()


def test_header_details_handed_over_at_import_are_used(online: FakeHub, library: Config, drop):
    """The pipeline may pass the parsed header to enqueue; its hints lead the lookup."""
    path = sdxl_file(drop, "Anonymous")
    online.add_repo("hinted/checkpoint", {"weights/anon.safetensors": path})
    [model] = Importer(library).import_paths([path], copy=False).imported
    enricher = HubEnricher(library, policy=FAST)
    try:
        details = {"metadata": {"repo_id": "hinted/checkpoint"}, "tensors": [("w", "F16", (4,))]}
        enricher.enqueue(model["id"], details=details)
        enricher.start()
        assert enricher.wait_idle(WAIT)
        hub = read_metadata(Path(model["path"])).hub
        assert hub["repo_id"] == "hinted/checkpoint"
        assert hub["path"] == "weights/anon.safetensors"
        assert hub["found_via"] == "header_metadata"
        sha = online.repos["hinted/checkpoint"].sha
        assert [r.path for r in online.requests] == [
            "/api/models/hinted/checkpoint",
            f"/hinted/checkpoint/raw/{sha}/README.md",  # the card: this repo has none
        ]
        assert read_metadata(Path(model["path"])).description == ""
    finally:
        enricher.stop()


def test_token_is_never_written_or_logged(online: FakeHub, setup: Setup, drop, monkeypatch, caplog):
    token = "hf_TOKENtokenTOKENtoken0987654321"
    monkeypatch.setenv("HF_TOKEN", token)
    caplog.set_level("DEBUG")
    path = sdxl_file(drop, "Secret-Model")
    online.add_repo("org/Secret-Model", {path.name: path})
    online.fail_next(502)
    model = setup.import_file(path)
    setup.enricher.start()
    assert setup.enricher.wait_idle(WAIT)

    assert setup.metadata(model).hub["repo_id"] == "org/Secret-Model"
    assert {r.headers.get("authorization") for r in online.requests} == {f"Bearer {token}"}
    assert token not in caplog.text
    for folder in (setup.config.library_root, setup.config.daemon.state_dir):
        for root, _, files in os.walk(folder):
            for name in files:
                assert token.encode() not in (Path(root) / name).read_bytes(), name


def test_a_new_match_runs_the_on_confirmed_hook_before_it_is_announced(
    online: FakeHub, library: Config, drop: Path
):
    """The daemon re-links a model through this hook; known matches and misses do not call it."""
    found = sdxl_file(drop, "Hooked-Model")
    online.add_repo("org/Hooked-Model", {found.name: found})
    unknown = sdxl_file(drop, "Unhooked-Model")
    importer = Importer(library)
    [model] = importer.import_paths([found], copy=False).imported
    [other] = importer.import_paths([unknown], copy=False).imported
    seen: list[tuple[str, str]] = []  # (what, id), in the order they happened

    def confirmed(model_id: str) -> None:
        seen.append(("hook", model_id))
        # the hook may rely on the match being recorded already
        assert read_metadata(Path(model["path"])).hub["repo_id"] == "org/Hooked-Model"

    def event(event: dict) -> None:
        if event["event"] == "hub_match":
            seen.append(("event", event["id"]))

    enricher = HubEnricher(
        library, on_event=lambda e: event(e.to_json()), on_confirmed=confirmed, policy=FAST
    )
    results = enricher.lookup_now([model["id"], other["id"]])
    assert [r.state for r in results] == ["confirmed", "not_found"]
    assert seen == [("hook", model["id"]), ("event", model["id"])]

    again = enricher.lookup_now([model["id"], other["id"]])  # known match, cached miss
    assert [r.cached for r in again] == [True, True]
    assert seen == [("hook", model["id"]), ("event", model["id"])]


def test_a_failing_on_confirmed_hook_does_not_stop_the_announcement(
    online: FakeHub, library: Config, drop: Path, caplog
):
    path = sdxl_file(drop, "Broken-Hook")
    online.add_repo("org/Broken-Hook", {path.name: path})
    [model] = Importer(library).import_paths([path], copy=False).imported
    events: list[dict] = []

    def broken(model_id: str) -> None:
        raise RuntimeError("links are busy")

    enricher = HubEnricher(
        library, on_event=lambda e: events.append(e.to_json()), on_confirmed=broken, policy=FAST
    )
    [result] = enricher.lookup_now([model["id"]])
    assert result.state == "confirmed"
    assert [e["id"] for e in events if e["event"] == "hub_match"] == [model["id"]]
    assert "on_confirmed failed" in caplog.text
