"""Find the Hub repo that holds a file, and accept it only on an exact LFS sha256.

Clues (see clues.py) are spent strongest first, within a small budget of
calls per file: repos the clues name outright are asked for directly; then a
search or two by name, whose results are ranked by name similarity and
downloads before the best few are checked. A candidate is confirmed only when
one of its files' LFS sha256 equals ours. Everything else that looked right
(a similar name, the same file name with other bytes, a repo the file names
as its source) is returned as an unconfirmed suggestion, never as a match.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import PurePosixPath
from typing import Any

from modeld.hub import clue as clue_sources
from modeld.hub.client import HubClient
from modeld.hub.clue import REPO, SEARCH, Clue
from modeld.hub.errors import HubOffline, HubUnavailable, RepoNotAvailable
from modeld.hub.lookupstate import LookupState
from modeld.hub.names import name_similarity, search_term
from modeld.hub.preview import pick_preview
from modeld.hub.repos import RepoInfo, SearchHit

log = logging.getLogger(__name__)

MATCH_METHOD = "lfs_sha256"
SUGGESTION_THRESHOLD = 0.6  # name similarity below this is noise
MAX_SUGGESTIONS = 5

# Suggestion reasons, strongest first.
SAME_FILE_NAME = "same_file_name"  # the repo has a file of our name, with other bytes
NAMED_BY_FILE = "named_by_file"  # the file's header or sidecar names this repo
SIMILAR_NAME = "similar_name"
_REASON_RANK = {SAME_FILE_NAME: 0, NAMED_BY_FILE: 1, SIMILAR_NAME: 2}
# Clue sources that speak for the file itself (not just its name)
_NAMING_SOURCES = {
    clue_sources.HF_CACHE,
    clue_sources.SIDECAR,
    clue_sources.GGUF_SOURCE,
    clue_sources.HEADER_METADATA,
}


@dataclass(frozen=True)
class Suggestion:
    repo_id: str
    reason: str  # same_file_name | named_by_file | similar_name
    score: float  # 0..1
    source: str  # the clue that led to it
    path: str | None = None  # the same-named file in the repo, if any

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "score": round(self.score, 3)}


@dataclass(frozen=True)
class LookupOutcome:
    # confirmed | unconfirmed | not_found; pending (could not ask) | disabled (HF_HUB_OFFLINE)
    state: LookupState
    hub: dict[str, Any] | None = None  # the metadata.json `hub` section, when confirmed
    suggestions: tuple[Suggestion, ...] = ()
    requests: int = 0  # HTTP requests this lookup sent
    retry_in: float | None = None  # when unavailable: seconds until the Hub may be asked again
    error: str | None = None


def find_repo(
    client: HubClient,
    *,
    sha256: str,
    file_names: Sequence[str],
    clues: Sequence[Clue],
    model_format: str | None = None,
) -> LookupOutcome:
    """Look for the repo holding the file with `sha256` (names: ours, for comparison)."""
    search = _Search(client, sha256.lower(), file_names, model_format)
    start = client.requests
    try:
        hub = search.run(clues)
    except HubOffline as exc:
        return LookupOutcome(LookupState.DISABLED, requests=client.requests - start, error=str(exc))
    except HubUnavailable as exc:
        return LookupOutcome(
            LookupState.PENDING,
            suggestions=search.suggestions(),
            requests=client.requests - start,
            retry_in=exc.retry_in,
            error=str(exc),
        )
    if hub:
        return LookupOutcome(LookupState.CONFIRMED, hub=hub, requests=client.requests - start)
    suggestions = search.suggestions()
    return LookupOutcome(
        LookupState.missed(suggestions),
        suggestions=suggestions,
        requests=client.requests - start,
    )


def hub_section(repo: RepoInfo, path: str, found_via: str, endpoint: str) -> dict[str, Any]:
    """What metadata.json records under `hub` for a confirmed match."""
    revision = repo.revision or "main"
    return {
        "repo_id": repo.repo_id,
        "revision": repo.revision,
        "path": path,
        "url": f"{endpoint}/{repo.repo_id}/blob/{revision}/{path}",
        "license": repo.license,
        "pipeline_tag": repo.pipeline_tag,
        "tags": list(repo.tags),
        "base_model": list(repo.base_model),
        "downloads": repo.downloads,
        "author": repo.author,
        "library_name": repo.library_name,
        "preview": pick_preview(repo.files, path),  # a repo image to show, fetched later
        "confirmed": True,
        "match": MATCH_METHOD,
        "found_via": found_via,
        "checked_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


class _Search:
    """The state of one lookup: what was checked, what looked promising."""

    def __init__(
        self, client: HubClient, sha256: str, file_names: Sequence[str], model_format: str | None
    ):
        self.client = client
        self.sha256 = sha256
        # only names that identify a model count; "model.safetensors" is anyone's name
        self.file_names = [n for n in file_names if n and search_term(n) is not None]
        self.own_names = {PurePosixPath(n).name.lower() for n in self.file_names}
        self.is_gguf = (model_format or "").lower() == "gguf" or any(
            n.lower().endswith(".gguf") for n in file_names if n
        )
        self.checked: set[str] = set()
        self._suggestions: dict[str, Suggestion] = {}

    def run(self, clues: Sequence[Clue]) -> dict[str, Any] | None:
        policy = self.client.policy
        direct = [c for c in clues if c.kind == REPO][: policy.max_direct_checks]
        for clue in direct:
            named = clue.source in _NAMING_SOURCES
            if hub := self._check(clue.value, clue.revision, clue.source, named=named):
                return hub
        candidate_checks = 0
        for clue in [c for c in clues if c.kind == SEARCH][: policy.max_searches]:
            hits = self.client.search(clue.value)
            for hit in self._ranked(hits, clue.value):
                similarity = self._similarity(hit.repo_id)
                if similarity >= SUGGESTION_THRESHOLD:
                    self._suggest(Suggestion(hit.repo_id, SIMILAR_NAME, similarity, clue.source))
                if hit.repo_id.lower() in self.checked or candidate_checks >= (
                    policy.max_candidate_checks
                ):
                    continue
                candidate_checks += 1
                if hub := self._check(hit.repo_id, None, clue.source, named=False):
                    return hub
        return None

    def suggestions(self) -> tuple[Suggestion, ...]:
        ranked = sorted(
            self._suggestions.values(),
            key=lambda s: (_REASON_RANK[s.reason], -s.score, s.repo_id),
        )
        return tuple(ranked[:MAX_SUGGESTIONS])

    def _check(
        self, repo_id: str, revision: str | None, source: str, *, named: bool
    ) -> dict[str, Any] | None:
        """Ask for one repo's files; the matching file's hub section, or None.

        `named`: the file itself (header, sidecar, cache path) names this repo,
        which makes the repo worth suggesting even without a same-named file.
        """
        self.checked.add(repo_id.lower())
        try:
            repo = self.client.repo_info(repo_id, revision)
        except RepoNotAvailable as exc:
            log.debug("hub: %s", exc)
            return None
        for file in repo.files:
            if file.sha256 == self.sha256:
                log.info("hub: %s/%s matches by sha256", repo.repo_id, file.path)
                return hub_section(repo, file.path, source, self.client.endpoint)
        for file in repo.files:
            if PurePosixPath(file.path).name.lower() in self.own_names:
                self._suggest(Suggestion(repo.repo_id, SAME_FILE_NAME, 1.0, source, file.path))
                break
        else:
            if named:
                self._suggest(Suggestion(repo.repo_id, NAMED_BY_FILE, 0.8, source))
        return None

    def _ranked(self, hits: Sequence[SearchHit], term: str) -> list[SearchHit]:
        """Most similar name first; for a GGUF, GGUF repos first; then downloads."""

        def key(hit: SearchHit) -> tuple[float, int]:
            score = max(self._similarity(hit.repo_id), name_similarity(term, hit.repo_id))
            if self.is_gguf and ("gguf" in hit.repo_id.lower() or "gguf" in hit.tags):
                score += 0.1
            return (-score, -hit.downloads)

        return sorted(hits, key=key)

    def _similarity(self, repo_id: str) -> float:
        return max((name_similarity(name, repo_id) for name in self.file_names), default=0.0)

    def _suggest(self, suggestion: Suggestion) -> None:
        key = suggestion.repo_id.lower()
        current = self._suggestions.get(key)
        if current is None or (_REASON_RANK[suggestion.reason], -suggestion.score) < (
            _REASON_RANK[current.reason],
            -current.score,
        ):
            self._suggestions[key] = suggestion
