"""Where a model file might have come from on the Hugging Face Hub (pure functions).

The Hub has no "find by file hash" API, so a lookup starts from clues the
file and its surroundings leave behind:

- a repo named outright: a GGUF `general.source.*` / `general.url` field, a
  safetensors `__metadata__` value, a sidecar JSON, the `models--org--name`
  folder of a Hugging Face cache, or an `org/repo/file` download layout;
- a base model (GGUF `general.base_model.N.*`, `base_model` keys): rarely the
  repo holding our bytes, but its `-GGUF` sibling and its name are good leads;
- names worth a search: the file name with quant, precision and shard
  suffixes stripped, the GGUF `general.name`, a CivitAI model name.

Nothing here touches the network or the disk; `lookup.py` decides which clues
to spend calls on, in the order `collect_clues` returns them. What a clue is
lives in clue.py, the path layouts in pathclues.py, name rules in names.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from modeld.hub.clue import (
    BASE_MODEL,
    FILE_NAME,
    FOLDER_NAME,
    GGUF_NAME,
    GGUF_SIBLING,
    GGUF_SOURCE,
    HEADER_METADATA,
    MODEL_NAME,
    REPO,
    SEARCH,
    SIDECAR,
    SIDECAR_NAME,
    Clue,
    ordered_unique,
)
from modeld.hub.names import NAME_PART, is_commit, is_repo_id, search_term
from modeld.hub.pathclues import clues_from_path, path_parts

# https://huggingface.co/org/name[/blob|resolve|tree/<rev>/<path>]; hf.co is the short host.
_HF_URL = re.compile(
    r"https?://(?:www\.)?(?:huggingface\.co|hf\.co)/"
    rf"(?P<repo>{NAME_PART}/{NAME_PART})"
    r"(?:/(?:blob|resolve|tree)/(?P<rev>[^/\s\"'<>]+)(?:/(?P<path>[^\s?#\"'<>]+))?)?",
)
_NOT_MODEL_NAMESPACES = frozenset(
    {"datasets", "spaces", "api", "docs", "blog", "papers", "collections", "models", "settings"}
)

# GGUF fields (llama.cpp gguf-py naming) that name the repo the weights came from.
_GGUF_SOURCE_KEYS = (
    "general.source.huggingface.repository",
    "general.source.repo_url",
    "general.source.url",
    "general.repo_url",
    "general.url",
)
_GGUF_BASE_MODEL = re.compile(r"general\.base_model\.(\d{1,3})\.(\w+)")
# Keys in safetensors __metadata__ or sidecar JSON whose value may be a repo id.
_REPO_KEYS = frozenset(
    {
        "repo_id",
        "repo",
        "hf_repo",
        "hf_repo_id",
        "huggingface_repo",
        "huggingface",
        "source",
        "source_repo",
        "url",
        "source_url",
        "model_id",
        "modelspec.url",
        "_name_or_path",
    }
)
_BASE_KEYS = frozenset({"base_model", "base_model_id", "base_model_name_or_path"})
# Keys in safetensors __metadata__ whose value is a model name worth a search.
_NAME_KEYS = frozenset({"modelspec.title", "ss_output_name", "name", "model_name"})
# Containers a parser may nest header fields under; dropped from dotted keys.
_CONTAINER_KEYS = frozenset(
    {
        "kv",
        "fields",
        "header",
        "metadata",
        "__metadata__",
        "gguf",
        "safetensors",
        "details",
        "config",  # a companion config.json: its `_name_or_path` often names the repo
        "pipeline",  # a diffusers model_index.json
    }
)
# Parsed parts that hold tensors or vocabularies, never provenance: not walked.
_SKIPPED_KEYS = frozenset(
    {"tensors", "tensor_types", "tokenizer", "tokens", "vocab", "components", "names", "storages"}
)
_MAX_FIELDS = 10_000
_MAX_STRING = 64 * 1024  # longer values (tag frequencies, training logs) are not names
_MAX_WALK = 5_000  # strings visited per sidecar: sidecars are user files of any shape


def collect_clues(
    file_name: str,
    *,
    model_format: str | None = None,
    details: Mapping[str, Any] | None = None,
    sources: Sequence[str] = (),
    sidecars: Mapping[str, Any] | None = None,
    other_names: Sequence[str] = (),
    model_name: str | None = None,
) -> list[Clue]:
    """Every clue to where `file_name` came from, strongest first, without duplicates.

    `details` is the parsed header as the format parser hands it over: GGUF KV
    fields (dotted keys such as `general.source.url`, flat or nested under
    `kv`/`fields`/...) and/or the safetensors `__metadata__` strings.
    `sources` are the paths the file was imported from; `sidecars` maps a
    companion file name (`x.civitai.info`, `x.json`) to its parsed JSON;
    `other_names` are further file names it went by (its original name);
    `model_name` is the model's human name (no extension to strip).
    """
    fields = header_fields(details or {})
    is_gguf = (model_format or "").lower() == "gguf" or file_name.lower().endswith(".gguf")
    clues: list[Clue] = []

    for source in sources:
        clues.extend(clues_from_path(source))
    for name, document in (sidecars or {}).items():
        clues.extend(_clues_from_sidecar(name, document))

    source_repos = []
    for key in _GGUF_SOURCE_KEYS:
        if repo := _repo_in(fields.get(key)):
            source_repos.append(repo)
            clues.append(Clue(REPO, repo, GGUF_SOURCE))
    clues.extend(_clues_from_metadata(fields))
    if is_gguf:
        clues.extend(Clue(REPO, f"{repo}-GGUF", GGUF_SIBLING) for repo in source_repos)

    base_repos, base_names = _base_models(fields)
    clues.extend(Clue(REPO, repo, BASE_MODEL) for repo in base_repos)
    if is_gguf:
        clues.extend(Clue(REPO, f"{repo}-GGUF", GGUF_SIBLING) for repo in base_repos)

    for name in (file_name, *other_names):
        if term := search_term(name):
            clues.append(Clue(SEARCH, term, FILE_NAME))
    if model_name and (term := search_term(model_name, has_extension=False)):
        clues.append(Clue(SEARCH, term, MODEL_NAME))
    for name in _gguf_names(fields):
        if term := search_term(name, has_extension=False):
            clues.append(Clue(SEARCH, term, GGUF_NAME))
    for repo in (*source_repos, *base_repos):
        if term := search_term(repo.rsplit("/", 1)[-1], has_extension=False):
            clues.append(Clue(SEARCH, term, BASE_MODEL if repo in base_repos else GGUF_SOURCE))
    for name in base_names:
        if term := search_term(name, has_extension=False):
            clues.append(Clue(SEARCH, term, BASE_MODEL))
    for source in sources:
        folder = path_parts(source)[-2:-1]
        if folder and (term := search_term(folder[0], has_extension=False)):
            clues.append(Clue(SEARCH, term, FOLDER_NAME))
    return ordered_unique(clues)


def header_fields(details: Mapping[str, Any]) -> dict[str, Any]:
    """Flatten parsed header details to dotted keys: {"general.name": "...", ...}.

    Accepts flat dotted keys and nested mappings alike, so the format
    parser's exact shape does not matter; container names like `kv` or
    `__metadata__` are dropped from the keys.
    """
    flat: dict[str, Any] = {}

    def walk(mapping: Mapping[str, Any], prefix: str, depth: int) -> None:
        for key, value in mapping.items():
            if len(flat) >= _MAX_FIELDS:
                return
            if not isinstance(key, str) or key in _SKIPPED_KEYS or key.startswith("tokenizer."):
                continue
            dotted = prefix if key in _CONTAINER_KEYS else f"{prefix}{key}."
            if isinstance(value, Mapping):
                if depth < 6:
                    walk(value, dotted, depth + 1)
            else:
                flat.setdefault(dotted.rstrip(".") if dotted != prefix else key, value)

    walk(details, "", 0)
    return flat


def repo_from_url(text: str) -> tuple[str, str | None, str | None] | None:
    """(repo id, revision, path in repo) from the first Hugging Face model URL in `text`."""
    for match in _HF_URL.finditer(text[:_MAX_STRING]):
        repo = match.group("repo")
        if repo.split("/")[0].lower() in _NOT_MODEL_NAMESPACES or not is_repo_id(repo):
            continue
        return repo, match.group("rev"), match.group("path")
    return None


def _repo_in(value: Any) -> str | None:
    """A repo id from a header value: a Hub URL, or a bare 'org/name'."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if found := repo_from_url(text):
        return found[0]
    return text if is_repo_id(text) else None


def _clues_from_metadata(fields: Mapping[str, Any]) -> Iterator[Clue]:
    """Repo clues from free-form string fields (safetensors __metadata__ and the like)."""
    for key, value in fields.items():
        if not isinstance(value, str) or key.startswith("general.") or len(value) > _MAX_STRING:
            continue
        lowered = key.lower()
        if found := repo_from_url(value):
            repo, revision, path = found
            yield Clue(REPO, repo, HEADER_METADATA, revision=_commit(revision), path=path)
        elif lowered in _REPO_KEYS and is_repo_id(value.strip()):
            yield Clue(REPO, value.strip(), HEADER_METADATA)
        elif lowered in _NAME_KEYS and (term := search_term(value, has_extension=False)):
            yield Clue(SEARCH, term, HEADER_METADATA)


def _base_models(fields: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """(repo ids, plain names) of the base models a header names."""
    repos: list[str] = []
    names: list[str] = []
    entries: dict[str, dict[str, Any]] = {}
    for key, value in fields.items():
        if match := _GGUF_BASE_MODEL.fullmatch(key):
            entries.setdefault(match.group(1), {})[match.group(2)] = value
        elif key.lower() in _BASE_KEYS:
            for item in value if isinstance(value, list) else [value]:
                if repo := _repo_in(item):
                    repos.append(repo)
                elif isinstance(item, str) and item.strip():
                    names.append(item.strip())
    for _, entry in sorted(entries.items(), key=lambda item: int(item[0])):
        for key in ("repo_url", "url"):
            if repo := _repo_in(entry.get(key)):
                repos.append(repo)
                break
        else:
            org, name = entry.get("organization"), entry.get("name")
            if isinstance(org, str) and isinstance(name, str):
                candidate = f"{org.strip().replace(' ', '-')}/{name.strip().replace(' ', '-')}"
                if is_repo_id(candidate):
                    repos.append(candidate)
                    continue
            if isinstance(name, str) and name.strip():
                names.append(name.strip())
    return repos, names


def _gguf_names(fields: Mapping[str, Any]) -> Iterator[str]:
    name = fields.get("general.name")
    if isinstance(name, str):
        yield name
    values = [
        fields.get(key) for key in ("general.basename", "general.size_label", "general.finetune")
    ]
    parts = [value for value in values if isinstance(value, str)]
    if parts and isinstance(fields.get("general.basename"), str):
        yield "-".join(part.strip() for part in parts if part.strip())


def _clues_from_sidecar(name: str, document: Any) -> Iterator[Clue]:
    """Repo URLs and repo-id keys anywhere in a sidecar; a CivitAI model name to search."""
    for key, value in _walk_strings(document):
        lowered = key.lower()
        if found := repo_from_url(value):
            repo, revision, path = found
            yield Clue(REPO, repo, SIDECAR, revision=_commit(revision), path=path)
        elif (lowered in _REPO_KEYS or lowered in _BASE_KEYS) and is_repo_id(value.strip()):
            yield Clue(REPO, value.strip(), SIDECAR)
    if name.lower().endswith(".civitai.info") and isinstance(document, Mapping):
        model = document.get("model")
        title = model.get("name") if isinstance(model, Mapping) else None
        if isinstance(title, str) and (term := search_term(title, has_extension=False)):
            yield Clue(SEARCH, term, SIDECAR_NAME)


def _walk_strings(document: Any) -> Iterator[tuple[str, str]]:
    """(key, string value) pairs of a JSON document, bounded in depth and count."""
    stack: list[tuple[str, Any, int]] = [("", document, 0)]
    seen = 0
    while stack and seen < _MAX_WALK:
        key, value, depth = stack.pop()
        if isinstance(value, str):
            seen += 1
            if len(value) <= _MAX_STRING:
                yield key, value
        elif depth < 8 and isinstance(value, Mapping):
            stack.extend((str(k), v, depth + 1) for k, v in reversed(list(value.items())))
        elif depth < 8 and isinstance(value, list):
            stack.extend((key, v, depth + 1) for v in reversed(value[:1000]))


def _commit(revision: str | None) -> str | None:
    """Only a commit pins content; a branch name in a URL may have moved since."""
    return revision if revision and is_commit(revision) else None
