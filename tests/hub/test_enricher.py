"""The background enricher with the real import pipeline, a real index and a fake Hub."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
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
from tests.conftest import Cli
from tests.hub.conftest import write_hub_config
from tests.hub.fakehub import FakeHub
from tests.modelfiles import write_gguf, write_safetensors

WAIT = 60.0  # only catches a hang: a loaded 2-core CI machine can be slow

# Short retries and cool-downs; the HTTP timeout is long because it only stops a
# hang (a 2 s one fired on a loaded machine and turned a lookup into a failure).
FAST = HubPolicy(
    timeout=WAIT,
    retry=RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.02, max_retry_after=5),
    breaker_threshold=2,
    breaker_cooldown=60.0,
)


def wait_until(condition: Callable[[], bool], timeout: float = WAIT) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


@pytest.fixture
def library(hub_config: Config) -> Iterator[Config]:
    ensure_library(hub_config.library_root)
    db = open_index(hub_config.index_path)
    yield hub_config
    db.close()


class Setup:
    """An enricher wired to an importer the way the daemon wires them."""

    def __init__(self, config: Config, policy: HubPolicy = FAST):
        self.events: list[dict] = []
        self.enricher = HubEnricher(config, on_event=self.events.append, policy=policy)
        self.importer = Importer(
            config, after_import=[lambda meta, details: self.enricher.enqueue(meta.id, details)]
        )
        self.config = config

    def import_file(self, path: Path) -> dict:
        report = self.importer.import_paths([path], copy=False)
        assert report.failed == [] and len(report.imported) == 1, report
        return report.imported[0]

    def metadata(self, model: dict):
        return read_metadata(Path(model["path"]))


@pytest.fixture
def setup(library: Config) -> Iterator[Setup]:
    wired = Setup(library)
    yield wired
    wired.enricher.stop()


def tiny_gguf(folder: Path, name: str = "Tiny-Llama-1B-Chat") -> Path:
    return write_gguf(
        folder / f"{name}.Q4_K_M.gguf",
        name=name.replace("-", " "),
        extra_kv={"general.source.huggingface.repository": f"acme/{name}"},
    )


def sdxl_file(folder: Path, name: str) -> Path:
    return write_safetensors(
        folder / f"{name}.safetensors",
        {"conditioner.embedders.0.transformer.text_model.embeddings.weight": ("F16", (4, 8))},
        metadata={"modelspec.architecture": "stable-diffusion-xl-v1-base", "made_by": name},
    )


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


def test_answers_are_cached_by_sha256_hits_and_misses(online: FakeHub, setup: Setup, drop):
    found = sdxl_file(drop, "Cached-Model")
    online.add_repo("org/Cached-Model", {found.name: found})
    unknown = sdxl_file(drop, "Nowhere-Model")
    models = [setup.import_file(found), setup.import_file(unknown)]
    ids = [m["id"] for m in models]

    first = setup.enricher.lookup_now(ids)
    assert [r["status"] for r in first] == ["confirmed", "not_found"]
    sent = len(online.requests)
    assert sent > 0

    # a miss is not asked again within the TTL; a confirmed model is not asked at all
    again = setup.enricher.lookup_now(ids)
    assert [r["status"] for r in again] == ["confirmed", "not_found"]
    assert [r["cached"] for r in again] == [True, True]
    assert len(online.requests) == sent

    # --refresh asks the Hub again
    refreshed = setup.enricher.lookup_now(ids, refresh=True)
    assert [r["status"] for r in refreshed] == ["confirmed", "not_found"]
    assert len(online.requests) > sent


def test_unconfirmed_suggestions_are_kept_apart_from_hub(online: FakeHub, setup: Setup, drop):
    path = sdxl_file(drop, "Lookalike-Model")
    online.add_repo("org/Lookalike-Model", {path.name: ("99" * 32, 123)})
    model = setup.import_file(path)
    [result] = setup.enricher.lookup_now([model["id"]])
    assert result["status"] == "unconfirmed"
    meta = setup.metadata(model)
    assert meta.hub is None
    assert meta.extra["hub_suggestions"][0]["repo_id"] == "org/Lookalike-Model"
    assert meta.extra["hub_suggestions"][0]["reason"] == "same_file_name"
    assert meta.extra["hub_lookup"]["state"] == "miss"
    assert ModelRecord.get(ModelRecord.model_id == model["id"]).hub is None


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


def hub_env(fakehub: FakeHub) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "HF_TOKEN")}
    return {**env, "HF_ENDPOINT": fakehub.url, "HF_HUB_DISABLE_TELEMETRY": "1"}


def test_cli_hub_lookup_and_show(online: FakeHub, library: Config, drop: Path, home: Path):
    path = sdxl_file(drop, "Cli-Model")
    online.add_repo("org/Cli-Model", {path.name: path}, license="mit")
    lookalike = sdxl_file(drop, "Cli-Lookalike")
    online.add_repo("org/Cli-Lookalike", {lookalike.name: ("98" * 32, 1)})
    importer = Importer(library)
    [model] = importer.import_paths([path], copy=False).imported
    [other] = importer.import_paths([lookalike], copy=False).imported
    cli = Cli(home / "config.toml")

    result = cli.run("hub", "lookup", "--all", "--json", env=hub_env(online))
    document = json.loads(result.stdout)
    statuses = {r["id"]: r["status"] for r in document["results"]}
    assert statuses == {model["id"]: "confirmed", other["id"]: "unconfirmed"}

    shown = cli.run("show", model["id"], env=hub_env(online)).stdout
    assert "org/Cli-Model" in shown and "confirmed" in shown and "mit" in shown
    shown = cli.run("show", other["id"], env=hub_env(online)).stdout
    assert "unconfirmed" in shown and "org/Cli-Lookalike" in shown
    assert "same file name, different content" in shown

    single = cli.run("hub", "lookup", model["id"][:8], env=hub_env(online)).stdout
    assert "org/Cli-Model" in single

    # --refresh without a model asks again for every model, the confirmed one too
    refreshed = cli.run("hub", "lookup", "--refresh", "--json", env=hub_env(online))
    again = {r["id"]: (r["status"], r["cached"]) for r in json.loads(refreshed.stdout)["results"]}
    assert again == {model["id"]: ("confirmed", False), other["id"]: ("unconfirmed", False)}


def test_cli_hub_lookup_reports_disabled_and_unreachable(online: FakeHub, library, drop, home):
    cli = Cli(home / "config.toml")
    importer = Importer(library)
    importer.import_paths([sdxl_file(drop, "Unreachable-Model")], copy=False)
    online.down("refuse")
    result = cli.run("hub", "lookup", "--all", check=False, env=hub_env(online))
    assert result.returncode == 1
    assert "not finished" in result.stderr
    assert "pending" in result.stdout

    offline = {**hub_env(online), "HF_HUB_OFFLINE": "1"}
    result = cli.run("hub", "lookup", "--all", check=False, env=offline)
    assert result.returncode == 1
    assert "disabled" in result.stderr and "HF_HUB_OFFLINE" in result.stderr
    bare = cli.run("hub", "lookup", check=False, env=offline)  # the same as --all
    assert bare.returncode == 1 and "HF_HUB_OFFLINE" in bare.stderr
    both = cli.run("hub", "lookup", "abcd", "--all", check=False, env=offline)
    assert both.returncode == 2


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


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64  # a PNG's signature and header


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


def test_sidecars_are_read_capped_and_a_bad_one_is_no_clue(tmp_path):
    """Only regular JSON-object companions up to the cap; a malformed one never stops a lookup."""
    from modeld.hub.enricher import _SIDECAR_MAX_BYTES, _read_sidecars

    info = {"model": {"name": "Juggernaut"}, "url": "https://huggingface.co/a/b"}
    (tmp_path / "m.civitai.info").write_text(json.dumps(info))
    (tmp_path / "m.json").write_text('{"repo_id": "org/some-model"}')
    (tmp_path / "metadata.json").write_text('{"id": "ours"}')
    (tmp_path / "deep.json").write_text("[" * 200_000)  # nesting past the recursion limit
    (tmp_path / "broken.json").write_text("{not json")
    (tmp_path / "big.json").write_text('{"x": "' + "y" * _SIDECAR_MAX_BYTES + '"}')
    (tmp_path / "notes.txt").write_text('{"repo_id": "org/ignored"}')
    (tmp_path / "link.json").symlink_to(tmp_path / "m.json")

    assert _read_sidecars(tmp_path) == {
        "m.civitai.info": info,
        "m.json": {"repo_id": "org/some-model"},
    }
