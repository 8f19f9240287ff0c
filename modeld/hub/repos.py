"""What the Hub says about a repo, in modeld's own types: search hits, a repo's
files with their LFS sha256, and the few facts recorded with a match (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SearchHit:
    repo_id: str
    downloads: int = 0
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class RepoFileInfo:
    path: str
    size: int | None
    sha256: str | None  # the LFS sha256; None for files kept in git itself


@dataclass(frozen=True)
class RepoInfo:
    repo_id: str
    revision: str | None  # the commit the file list belongs to
    files: tuple[RepoFileInfo, ...]
    license: str | None = None
    pipeline_tag: str | None = None
    tags: tuple[str, ...] = ()
    base_model: tuple[str, ...] = ()
    downloads: int | None = None
    author: str | None = None
    library_name: str | None = None


def repo_info_from(info: Any) -> RepoInfo:
    """huggingface_hub's ModelInfo -> the few facts modeld records."""
    tags = tuple(info.tags or ())
    card = info.card_data
    license_ = getattr(card, "license", None) or _tag_value(tags, "license:")
    base = getattr(card, "base_model", None)
    if isinstance(base, str):
        base_models: tuple[str, ...] = (base,)
    elif isinstance(base, list):
        base_models = tuple(b for b in base if isinstance(b, str))
    else:
        base_models = tuple(
            tag.split(":")[-1] for tag in tags if tag.startswith("base_model:") and "/" in tag
        )
        base_models = tuple(dict.fromkeys(base_models))
    files = tuple(
        RepoFileInfo(
            path=sibling.rfilename,
            size=sibling.size,
            sha256=sibling.lfs.sha256.lower() if sibling.lfs and sibling.lfs.sha256 else None,
        )
        for sibling in info.siblings or ()
    )
    return RepoInfo(
        repo_id=info.id,
        revision=info.sha,
        files=files,
        license=license_ if isinstance(license_, str) else None,
        pipeline_tag=info.pipeline_tag,
        tags=tags,
        base_model=base_models,
        downloads=info.downloads,
        author=info.author,
        library_name=info.library_name,
    )


def _tag_value(tags: tuple[str, ...], prefix: str) -> str | None:
    return next((tag[len(prefix) :] for tag in tags if tag.startswith(prefix)), None)
