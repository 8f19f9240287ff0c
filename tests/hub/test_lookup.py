"""Lookups through the real huggingface_hub client against a fake Hub on 127.0.0.1.

Every scenario counts the requests the fake Hub received and asserts the limit.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from modeld.hub.client import HubClient, HubPolicy
from modeld.hub.clues import collect_clues
from modeld.hub.lookup import (
    NAMED_BY_FILE,
    SAME_FILE_NAME,
    SIMILAR_NAME,
    LookupOutcome,
    find_repo,
)
from modeld.hub.lookupstate import LookupState
from modeld.hub.retry import RetryPolicy
from tests.hub.conftest import ManualClock
from tests.hub.fakehub import FakeHub, file_sha256
from tests.modelfiles import write_gguf, write_safetensors

SEARCH = "/api/models"  # every API path starts with it; searches are exactly it


def client(**overrides) -> HubClient:
    clock = overrides.pop("clock", None)
    retry = overrides.pop(
        "retry", RetryPolicy(max_attempts=3, base_delay=0.02, max_delay=0.1, max_retry_after=5)
    )
    # the HTTP timeout only stops a hang: 3 s could fire on a loaded CI machine
    policy = HubPolicy(timeout=overrides.pop("timeout", 60.0), retry=retry, **overrides)
    return HubClient(policy=policy, clock=clock)


def look_up(hub_client: HubClient, path: Path, details=None, sources=()) -> LookupOutcome:
    return find_repo(
        hub_client,
        sha256=file_sha256(path),
        file_names=[path.name],
        clues=collect_clues(path.name, details=details, sources=sources),
    )


def searches(hub: FakeHub) -> int:
    return sum(1 for r in hub.requests if r.path == SEARCH)


def repo_calls(hub: FakeHub) -> int:
    return sum(1 for r in hub.requests if r.path.startswith(SEARCH + "/"))


@pytest.fixture
def tiny_gguf(tmp_path: Path) -> tuple[Path, dict]:
    """A real GGUF whose header names the repo it was converted from, as the parser hands it."""
    kv = {
        "general.name": "Tiny Llama 1B Chat",
        "general.source.huggingface.repository": "acme/Tiny-Llama-1B-Chat",
        "general.base_model.count": 1,
        "general.base_model.0.name": "Tiny Llama 1B",
        "general.base_model.0.organization": "Acme",
        "general.base_model.0.repo_url": "https://huggingface.co/acme/Tiny-Llama-1B",
    }
    path = write_gguf(tmp_path / "Tiny-Llama-1B-Chat.Q4_K_M.gguf", extra_kv=kv)
    return path, {"kv": {"general.architecture": "llama", **kv}}


def test_gguf_whose_header_names_its_source_repo_is_confirmed(online, tiny_gguf):
    path, details = tiny_gguf
    online.add_repo(
        "acme/Tiny-Llama-1B-Chat",
        {"model.safetensors": ("11" * 32, 2_000_000), "config.json": (None, 600)},
        license="apache-2.0",
    )
    online.add_repo(
        "acme/Tiny-Llama-1B-Chat-GGUF",
        {path.name: path, "Tiny-Llama-1B-Chat.Q8_0.gguf": ("22" * 32, 3_000_000)},
        license="apache-2.0",
        pipeline_tag="text-generation",
        tags=["gguf", "llama", "license:apache-2.0", "base_model:quantized:acme/Tiny-Llama-1B"],
        base_model=["acme/Tiny-Llama-1B-Chat"],
        downloads=4321,
    )
    outcome = look_up(client(), path, details)

    assert outcome.state == LookupState.CONFIRMED
    hub = outcome.hub
    assert hub["repo_id"] == "acme/Tiny-Llama-1B-Chat-GGUF"
    assert hub["path"] == path.name
    assert hub["revision"] == online.repos["acme/tiny-llama-1b-chat-gguf"].sha
    assert hub["license"] == "apache-2.0"
    assert hub["pipeline_tag"] == "text-generation"
    assert hub["base_model"] == ["acme/Tiny-Llama-1B-Chat"]
    assert hub["downloads"] == 4321
    assert hub["tags"][0] == "gguf"
    assert hub["match"] == "lfs_sha256"
    assert hub["found_via"] == "gguf_sibling"
    assert hub["confirmed"] is True
    # the source repo (1 call, no match), then its -GGUF sibling (1 call, match); no search
    assert outcome.requests == 2
    assert [r.path for r in online.requests if r.path.startswith(SEARCH)] == [
        "/api/models/acme/Tiny-Llama-1B-Chat",
        "/api/models/acme/Tiny-Llama-1B-Chat-GGUF",
    ]
    assert all(
        r.query.get("blobs") == ["true"] for r in online.requests if r.path.startswith(SEARCH)
    )


def test_header_naming_the_repo_itself_takes_one_call(online, tiny_gguf):
    path, details = tiny_gguf
    details["kv"]["general.source.huggingface.repository"] = "acme/Tiny-Llama-1B-Chat-GGUF"
    online.add_repo("acme/Tiny-Llama-1B-Chat-GGUF", {f"sub/{path.name}": path})
    outcome = look_up(client(), path, details)
    assert outcome.state == LookupState.CONFIRMED
    assert outcome.hub["path"] == f"sub/{path.name}"
    assert outcome.hub["found_via"] == "gguf_source"
    assert outcome.requests == 1


def test_safetensors_whose_name_matches_a_repo_is_confirmed_by_search(online, tmp_path):
    path = write_safetensors(
        tmp_path / "Juggernaut-XL-v9.safetensors",
        {"model.diffusion_model.input_blocks.0.0.weight": ("F16", (8, 4))},
        metadata={"modelspec.title": "Juggernaut XL v9"},
    )
    online.add_repo(  # same name, other bytes, fewer downloads: checked second at most
        "someone/Juggernaut-XL-v9-fp8", {path.name: ("33" * 32, 999)}, downloads=10
    )
    online.add_repo(
        "RunDiffusion/Juggernaut-XL-v9",
        {path.name: path, "README.md": (None, 1000)},
        license="creativeml-openrail-m",
        pipeline_tag="text-to-image",
        downloads=90_000,
    )
    online.add_repo("unrelated/other-model", {"x.safetensors": ("44" * 32, 1)}, downloads=10**6)

    outcome = look_up(client(), path)

    assert outcome.state == LookupState.CONFIRMED
    assert outcome.hub["repo_id"] == "RunDiffusion/Juggernaut-XL-v9"
    assert outcome.hub["found_via"] == "file_name"
    assert outcome.hub["license"] == "creativeml-openrail-m"
    assert searches(online) == 1
    assert repo_calls(online) == 1  # the best-ranked candidate was the right one
    assert online.requests[0].query["search"] == ["Juggernaut-XL-v9"]


def test_same_name_with_other_bytes_is_only_a_suggestion(online, tmp_path):
    path = write_safetensors(
        tmp_path / "Juggernaut-XL-v9.safetensors", {"w": ("F16", (4, 4))}, metadata={"v": "mine"}
    )
    online.add_repo("RunDiffusion/Juggernaut-XL-v9", {path.name: ("55" * 32, path.stat().st_size)})

    outcome = look_up(client(), path)

    assert outcome.state == LookupState.UNCONFIRMED
    assert outcome.hub is None
    [suggestion] = outcome.suggestions
    assert suggestion.repo_id == "RunDiffusion/Juggernaut-XL-v9"
    assert suggestion.reason == SAME_FILE_NAME
    assert suggestion.path == path.name
    assert outcome.requests == 2


def test_a_miss_keeps_name_and_header_leads_as_unconfirmed(online, tiny_gguf):
    path, details = tiny_gguf
    online.add_repo("acme/Tiny-Llama-1B-Chat", {"model.safetensors": ("11" * 32, 10)})
    online.add_repo("other/Tiny-Llama-1B-Chat-GGUF", {"other.gguf": ("66" * 32, 10)})
    outcome = look_up(client(max_candidate_checks=1), path, details)
    assert outcome.state == LookupState.UNCONFIRMED
    reasons = {s.repo_id: s.reason for s in outcome.suggestions}
    assert reasons["acme/Tiny-Llama-1B-Chat"] == NAMED_BY_FILE
    assert reasons["other/Tiny-Llama-1B-Chat-GGUF"] == SIMILAR_NAME
    # budget: 3 direct checks, 2 searches, 1 candidate check
    assert repo_calls(online) <= 4 and searches(online) <= 2


def test_429_with_retry_after_is_honoured(online, tmp_path):
    path = write_safetensors(tmp_path / "Rate-Limited-Model.safetensors", {"w": ("F16", (2, 2))})
    online.add_repo("org/Rate-Limited-Model", {path.name: path})
    online.fail_next(429, headers={"Retry-After": "1"})

    outcome = look_up(client(), path)

    assert outcome.state == LookupState.CONFIRMED
    first, second = [r for r in online.requests if r.path == SEARCH]
    assert second.time - first.time >= 1.0  # waited as told, not a moment less
    assert outcome.requests == 3  # 429, the retried search, the repo


def test_429_with_only_a_ratelimit_header_waits_for_the_reset(online, tmp_path):
    path = write_safetensors(tmp_path / "Quota-Model.safetensors", {"w": ("F16", (2, 2))})
    online.add_repo("org/Quota-Model", {path.name: path})
    online.fail_next(
        429,
        headers={
            "RateLimit": '"api";r=0;t=1',
            "RateLimit-Policy": '"fixed window";"api";q=500;w=300',
        },
    )
    outcome = look_up(client(), path)
    assert outcome.state == LookupState.CONFIRMED
    first, second = [r for r in online.requests if r.path == SEARCH]
    assert second.time - first.time >= 1.0


def test_a_long_retry_after_defers_instead_of_blocking(online, tmp_path):
    path = write_safetensors(tmp_path / "Busy-Model.safetensors", {"w": ("F16", (2, 2))})
    online.add_repo("org/Busy-Model", {path.name: path})
    online.fail_next(429, headers={"Retry-After": "3600"})
    hub_client = client()

    outcome = look_up(hub_client, path)
    assert outcome.state == LookupState.PENDING
    assert outcome.retry_in == pytest.approx(3600, abs=5)
    assert len(online.requests) == 1
    # every call now waits for the server's window: nothing is sent meanwhile
    assert look_up(hub_client, path).state == LookupState.PENDING
    assert len(online.requests) == 1
    assert hub_client.retry_in() == pytest.approx(3600, abs=5)


def test_500s_are_retried_with_growing_jittered_backoff(online, tmp_path):
    path = write_safetensors(tmp_path / "Flaky-Model.safetensors", {"w": ("F16", (2, 2))})
    online.add_repo("org/Flaky-Model", {path.name: path})
    online.fail_next(500, times=2)
    clock = ManualClock()  # records the backoff instead of sleeping it
    retry = RetryPolicy(max_attempts=3, base_delay=1.0, max_delay=30.0)

    outcome = look_up(client(clock=clock, retry=retry), path)

    assert outcome.state == LookupState.CONFIRMED
    assert searches(online) == 3
    first, second = clock.sleeps
    assert 0.5 <= first <= 1.0 and 1.0 <= second <= 2.0


def test_persistent_server_errors_give_up_and_open_the_breaker(online, tmp_path):
    path = write_safetensors(tmp_path / "Broken-Model.safetensors", {"w": ("F16", (2, 2))})
    online.fail_next(503, times=100)
    hub_client = client(clock=ManualClock(), breaker_threshold=3)

    outcome = look_up(hub_client, path)
    assert outcome.state == LookupState.PENDING
    assert len(online.requests) == 3  # max_attempts, then the breaker is open
    for _ in range(5):
        assert look_up(hub_client, path).state == LookupState.PENDING
    assert len(online.requests) == 3


def test_a_hanging_server_times_out_and_stops_being_asked(online, tmp_path):
    path = write_safetensors(tmp_path / "Slow-Model.safetensors", {"w": ("F16", (2, 2))})
    online.hang()
    hub_client = client(
        timeout=0.3,
        retry=RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.02),
        breaker_threshold=2,
    )
    try:
        outcome = look_up(hub_client, path)
        assert outcome.state == LookupState.PENDING
        assert "Timeout" in outcome.error
        # the client gives up after 0.3 s whether or not the fake's handler thread
        # has read the request yet: wait for it to be recorded, then count
        assert online.wait_for_requests(2, timeout=60)
        assert len(online.requests) == 2
        assert look_up(hub_client, path).state == LookupState.PENDING
        assert len(online.requests) == 2
    finally:
        online.release()


def test_down_server_opens_the_breaker_then_one_trial_per_cooldown_then_resumes(online, tmp_path):
    path = write_safetensors(tmp_path / "Resilient-Model.safetensors", {"w": ("F16", (2, 2))})
    online.add_repo("org/Resilient-Model", {path.name: path})
    clock = ManualClock()
    hub_client = client(
        clock=clock, breaker_threshold=3, breaker_cooldown=30, breaker_max_cooldown=60
    )
    online.down("reset")  # accepts and resets each connection, counting it

    assert look_up(hub_client, path).state == LookupState.PENDING
    assert len(online.requests) == 3  # three failures open the circuit
    for _ in range(10):
        outcome = look_up(hub_client, path)
        assert outcome.state == LookupState.PENDING and outcome.retry_in > 0
    assert len(online.requests) == 3  # no calls while open

    clock.advance(30)
    assert look_up(hub_client, path).state == LookupState.PENDING
    assert len(online.requests) == 4  # exactly one trial; it failed
    assert hub_client.breaker().retry_in() == pytest.approx(60)  # cool-down doubled
    clock.advance(59)
    assert look_up(hub_client, path).state == LookupState.PENDING
    assert len(online.requests) == 4

    online.up()
    clock.advance(1)
    outcome = look_up(hub_client, path)
    assert outcome.state == LookupState.CONFIRMED
    assert hub_client.breaker().retry_in() is None
    assert look_up(hub_client, path).state == LookupState.CONFIRMED  # calls flow again


def test_refused_connections_count_as_failures(online, tmp_path):
    path = write_safetensors(tmp_path / "Gone-Model.safetensors", {"w": ("F16", (2, 2))})
    online.down("refuse")
    hub_client = client(clock=ManualClock(), breaker_threshold=2)
    outcomes = [look_up(hub_client, path) for _ in range(5)]
    assert {o.state for o in outcomes} == {LookupState.PENDING}
    assert "ConnectError" in outcomes[0].error
    assert hub_client.requests == 2  # the port is closed: only the client can count


def test_offline_mode_means_zero_requests(online, tmp_path, monkeypatch):
    path = write_safetensors(tmp_path / "Offline-Model.safetensors", {"w": ("F16", (2, 2))})
    online.add_repo("org/Offline-Model", {path.name: path})
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    hub_client = client()
    outcome = look_up(hub_client, path)
    assert outcome.state == LookupState.DISABLED
    assert online.requests == []
    assert hub_client.requests == 0


def test_token_is_sent_and_never_logged(online, tmp_path, monkeypatch, caplog):
    token = "hf_SECRETsecretSECRET1234567890"
    monkeypatch.setenv("HF_TOKEN", token)
    online.token = token
    path = write_safetensors(tmp_path / "Private-Model.safetensors", {"w": ("F16", (2, 2))})
    online.add_repo("org/Private-Model", {path.name: path}, private=True)
    online.fail_next(500)  # an error path logs too
    caplog.set_level(logging.DEBUG)

    outcome = find_repo(
        client(),
        sha256=file_sha256(path),
        file_names=[path.name],
        clues=collect_clues(
            path.name,
            details={"metadata": {"repo_id": "org/Missing"}},
            sources=[f"/x/org/Private-Model/{path.name}"],
        ),
    )

    assert outcome.state == LookupState.CONFIRMED
    assert {r.headers.get("authorization") for r in online.requests} == {f"Bearer {token}"}
    assert token not in caplog.text
    assert token not in repr(outcome)
    assert any("500" in message for message in caplog.messages)  # the logs did say things


def test_private_repo_without_token_is_not_visible(online, tmp_path):
    path = write_safetensors(tmp_path / "Private-Model.safetensors", {"w": ("F16", (2, 2))})
    online.token = "hf_other"
    online.add_repo("org/Private-Model", {path.name: path}, private=True)
    outcome = look_up(client(), path, sources=[f"/x/org/Private-Model/{path.name}"])
    assert outcome.state == LookupState.NOT_FOUND
    assert "authorization" not in online.requests[0].headers


def test_fake_hub_speaks_the_real_paths_info_and_tree_shapes(online):
    """The fake answers huggingface_hub's own parsers (for other suites reusing it)."""
    from huggingface_hub import HfApi

    online.add_repo("org/Shapes", {"a/b.gguf": ("77" * 32, 5), "c.txt": (None, 3)})
    api = HfApi(endpoint=online.url, token=False)
    [info] = api.get_paths_info("org/Shapes", ["a/b.gguf", "missing"])
    assert info.path == "a/b.gguf" and info.lfs.sha256 == "77" * 32 and info.size == 5
    top = {entry.path: type(entry).__name__ for entry in api.list_repo_tree("org/Shapes")}
    assert top == {"a": "RepoFolder", "c.txt": "RepoFile"}
    nested = list(api.list_repo_tree("org/Shapes", recursive=False, path_in_repo="a"))
    assert [entry.path for entry in nested] == ["a/b.gguf"]
    pinned = api.model_info(
        "org/Shapes", revision=online.repos["org/shapes"].sha, files_metadata=True
    )
    assert {s.rfilename: s.lfs.sha256 if s.lfs else None for s in pinned.siblings} == {
        "a/b.gguf": "77" * 32,
        "c.txt": None,
    }


def test_a_200_that_is_not_the_api_counts_as_a_failure(online, tmp_path):
    """A captive portal answers 200 with a login page: retried, never parsed as results."""
    path = write_safetensors(tmp_path / "Portal-Model.safetensors", {"w": ("F16", (2, 2))})
    online.add_repo("org/Portal-Model", {path.name: path})
    online.fail_next(200, body="<html>please log in</html>")
    outcome = look_up(client(clock=ManualClock()), path)
    assert outcome.state == LookupState.CONFIRMED
    assert searches(online) == 2


def test_a_generic_file_name_in_a_named_repo_is_no_same_name_lead(online, tmp_path):
    path = write_safetensors(tmp_path / "model.safetensors", {"w": ("F16", (2, 2))})
    online.add_repo("org/Some-Model", {"model.safetensors": ("12" * 32, 1)})
    outcome = look_up(client(), path, sources=[f"/dl/org/Some-Model/{path.name}"])
    assert outcome.state == LookupState.NOT_FOUND
    assert outcome.suggestions == ()  # "model.safetensors" is anyone's name: no lead
    assert repo_calls(online) == 1


def test_a_429_on_a_file_is_retried_like_an_api_call(online):
    """A card or preview request gets the API calls' 429 handling: wait as told, then retry."""
    online.add_repo("org/Carded", {"README.md": ("0" * 64, 10)}, readme="# Carded\n\nA card.")
    online.fail_next(429, headers={"Retry-After": "1"})
    hub_client = client()

    assert hub_client.model_card("org/Carded", "main") == "# Carded\n\nA card."
    first, second = online.requests
    assert first.path == second.path == "/org/Carded/raw/main/README.md"
    assert second.time - first.time >= 1.0  # waited as told, not a moment less
    assert hub_client.requests == 2
