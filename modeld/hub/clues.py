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
to spend calls on, in the order `collect_clues` returns them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

from modeld.ingest.naming import split_extension

# Clue kinds
REPO = "repo"  # `value` is a repo id to ask for directly
SEARCH = "search"  # `value` is a search term

# Clue sources, strongest first: the order lookups try them in.
HF_CACHE = "hf_cache"
SIDECAR = "sidecar"
GGUF_SOURCE = "gguf_source"
HEADER_METADATA = "header_metadata"  # safetensors __metadata__, config.json, model_index.json
PATH_LAYOUT = "path_layout"
GGUF_SIBLING = "gguf_sibling"  # "<source repo>-GGUF": where converted GGUFs usually live
BASE_MODEL = "base_model"
FILE_NAME = "file_name"
MODEL_NAME = "model_name"  # the model's human name (a diffusers folder's name)
GGUF_NAME = "gguf_name"
SIDECAR_NAME = "sidecar_name"
FOLDER_NAME = "folder_name"

_SOURCE_ORDER = (
    HF_CACHE,
    SIDECAR,
    GGUF_SOURCE,
    HEADER_METADATA,
    PATH_LAYOUT,
    GGUF_SIBLING,
    BASE_MODEL,
    FILE_NAME,
    MODEL_NAME,
    GGUF_NAME,
    SIDECAR_NAME,
    FOLDER_NAME,
)


@dataclass(frozen=True)
class Clue:
    kind: str  # REPO | SEARCH
    value: str  # a repo id ("org/name") or a search term
    source: str  # one of the source constants above
    revision: str | None = None  # a commit, when the clue pins one (HF cache)
    path: str | None = None  # the file's path inside the repo, when known


# Repo ids as the Hub validates them: "name" or "namespace/name", 1-96 chars
# each of [A-Za-z0-9._-], not starting or ending with '-' or '.', no "--" or "..".
_NAME_PART = r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9_])?"
_REPO_ID = re.compile(rf"{_NAME_PART}/{_NAME_PART}")

# https://huggingface.co/org/name[/blob|resolve|tree/<rev>/<path>]; hf.co is the short host.
_HF_URL = re.compile(
    r"https?://(?:www\.)?(?:huggingface\.co|hf\.co)/"
    rf"(?P<repo>{_NAME_PART}/{_NAME_PART})"
    r"(?:/(?:blob|resolve|tree)/(?P<rev>[^/\s\"'<>]+)(?:/(?P<path>[^\s?#\"'<>]+))?)?",
)
_NOT_MODEL_NAMESPACES = frozenset(
    {"datasets", "spaces", "api", "docs", "blog", "papers", "collections", "models", "settings"}
)

# "models--org--name" folders of a Hugging Face cache (HF_HUB_CACHE layout).
_HF_CACHE_DIR = re.compile(r"models--(?P<repo>.+)")
_COMMIT = re.compile(r"[0-9a-f]{40}")

# Quant, precision and format tokens that variants of one model differ by.
_VARIANT_TOKEN = re.compile(
    r"(?<![A-Za-z0-9])(?:"
    r"i?q[1-8](?:_[0-9a-z]{1,2}){0,3}"  # Q4_K_M, Q8_0, IQ3_XS, Q4_0_4_4
    r"|bf16|fp16|fp32|f16|f32|fp8(?:_e4m3fn|_e5m2)?(?:_scaled)?|e4m3fn|e5m2"
    r"|int[48]|nf4|[48]bit|gguf|ggml|gptq|awq|exl2|mlx"
    r")(?![A-Za-z0-9])",
    re.IGNORECASE,
)
_SHARD = re.compile(r"[-_.]?\d{1,5}-of-\d{1,5}", re.IGNORECASE)
_SEPARATOR_RUN = re.compile(r"([-_. ])[-_. ]+")

# Names too generic to search for: they name a role, not a model.
_GENERIC_NAMES = frozenset(
    {
        "model",
        "models",
        "pytorch_model",
        "diffusion_pytorch_model",
        "adapter_model",
        "consolidated",
        "ggml-model",
        "unet",
        "vae",
        "text_encoder",
        "text_encoder_2",
        "transformer",
        "lora",
        "checkpoint",
        "weights",
        "embedding",
        "download",
        "file",
        "output",
    }
)
# Folder names that are places, never an org or a repo.
_PLACE_FOLDERS = frozenset(
    {
        "",
        "/",
        "home",
        "users",
        "root",
        "tmp",
        "temp",
        "var",
        "mnt",
        "media",
        "volumes",
        "data",
        "downloads",
        "download",
        "desktop",
        "documents",
        "models",
        "model",
        "checkpoints",
        "loras",
        "lora",
        "vae",
        "gguf",
        "llm",
        "llms",
        "ai",
        "inbox",
        "drop",
        "import",
        "snapshots",
        "blobs",
        "hub",
        "huggingface",
        ".cache",
        "cache",
        "stable-diffusion",
        "comfyui",
    }
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
        folder = _parts(source)[-2:-1]
        if folder and (term := search_term(folder[0], has_extension=False)):
            clues.append(Clue(SEARCH, term, FOLDER_NAME))
    return _ordered_unique(clues)


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


def clues_from_path(path: str) -> list[Clue]:
    """Repo clues from where a file was found: an HF cache snapshot, or org/repo folders."""
    parts = _parts(path)
    clues = []
    for index, part in enumerate(parts[:-1]):
        match = _HF_CACHE_DIR.fullmatch(part)
        if not match:
            continue
        repo = match.group("repo").replace("--", "/", 1)
        if not (is_repo_id(repo) or re.fullmatch(_NAME_PART, repo)):
            continue
        revision = path_in_repo = None
        rest = parts[index + 1 :]
        if len(rest) >= 3 and rest[0] == "snapshots" and _COMMIT.fullmatch(rest[1]):
            revision, path_in_repo = rest[1], "/".join(rest[2:])
        clues.append(Clue(REPO, repo, HF_CACHE, revision=revision, path=path_in_repo))
        return clues
    if len(parts) >= 3:
        org, name = parts[-3], parts[-2]
        if (
            org.lower() not in _PLACE_FOLDERS
            and name.lower() not in _PLACE_FOLDERS
            and is_repo_id(f"{org}/{name}")
        ):
            clues.append(Clue(REPO, f"{org}/{name}", PATH_LAYOUT, path=parts[-1]))
    return clues


def repo_from_url(text: str) -> tuple[str, str | None, str | None] | None:
    """(repo id, revision, path in repo) from the first Hugging Face model URL in `text`."""
    for match in _HF_URL.finditer(text[:_MAX_STRING]):
        repo = match.group("repo")
        if repo.split("/")[0].lower() in _NOT_MODEL_NAMESPACES or not is_repo_id(repo):
            continue
        return repo, match.group("rev"), match.group("path")
    return None


def is_repo_id(text: str) -> bool:
    """A namespaced repo id the Hub would accept ("org/name")."""
    return (
        len(text) <= 193
        and bool(_REPO_ID.fullmatch(text))
        and "--" not in text
        and ".." not in text
        and not text.endswith(".git")
    )


def strip_variant(stem: str) -> str:
    """'Meta-Llama-3-8B-Instruct.Q4_K_M' -> 'Meta-Llama-3-8B-Instruct' (shards, quants, dtypes)."""
    text = _SHARD.sub("", stem)
    text = _VARIANT_TOKEN.sub("", text)
    text = _SEPARATOR_RUN.sub(r"\1", text)
    return text.strip("-_. ")


def search_term(name: str, *, has_extension: bool = True) -> str | None:
    """The part of a file or model name worth searching the Hub for, if any."""
    name = PurePosixPath(name.replace("\\", "/")).name if has_extension else name.strip()
    stem = split_extension(name)[0] if has_extension else name
    term = strip_variant(stem)
    if len(term) < 3 or term.lower() in _GENERIC_NAMES or term.isdigit():
        return None
    return term[:96]


def normalized_name(name: str) -> str:
    """A comparable form of a repo or file name: last path part, no variant tokens or separators."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    stem, ext = split_extension(base)
    if ext.lower() not in {".gguf", ".safetensors", ".ckpt", ".pt", ".pth", ".bin", ".onnx"}:
        stem = base
    return re.sub(r"[^a-z0-9]", "", strip_variant(stem).lower())


def name_similarity(a: str, b: str) -> float:
    """0..1 similarity of two names after normalisation (difflib ratio)."""
    left, right = normalized_name(a), normalized_name(b)
    if not left or not right:
        return 0.0
    return SequenceMatcher(None, left, right).ratio()


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
    parts = [
        fields.get(key)
        for key in ("general.basename", "general.size_label", "general.finetune")
        if isinstance(fields.get(key), str)
    ]
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
    return revision if revision and _COMMIT.fullmatch(revision) else None


def _parts(path: str) -> list[str]:
    """Path components of a POSIX or Windows path string."""
    if "\\" in path and "/" not in path:
        return list(PureWindowsPath(path).parts)
    return list(PurePosixPath(path).parts)


def _ordered_unique(clues: Iterable[Clue]) -> list[Clue]:
    rank = {source: index for index, source in enumerate(_SOURCE_ORDER)}
    best: dict[tuple[str, str], Clue] = {}
    for clue in clues:
        key = (clue.kind, clue.value.lower())
        current = best.get(key)
        # the stronger source wins; between equals, the one that knows the file's path
        if current is None or (rank[clue.source], not clue.path) < (
            rank[current.source],
            not current.path,
        ):
            best[key] = clue
    return sorted(
        best.values(),
        key=lambda clue: (clue.kind != REPO, rank[clue.source]),
    )
