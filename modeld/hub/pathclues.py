"""Clues a file's import path leaves: a Hugging Face cache snapshot
(`models--org--name/snapshots/<commit>/...`) or an `org/repo/file` download layout (pure)."""

from __future__ import annotations

import re
from pathlib import PurePosixPath, PureWindowsPath

from modeld.hub.clue import HF_CACHE, PATH_LAYOUT, REPO, Clue
from modeld.hub.names import NAME_PART, is_commit, is_repo_id

# "models--org--name" folders of a Hugging Face cache (HF_HUB_CACHE layout).
_HF_CACHE_DIR = re.compile(r"models--(?P<repo>.+)")

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


def clues_from_path(path: str) -> list[Clue]:
    """Repo clues from where a file was found: an HF cache snapshot, or org/repo folders."""
    parts = path_parts(path)
    clues = []
    for index, part in enumerate(parts[:-1]):
        match = _HF_CACHE_DIR.fullmatch(part)
        if not match:
            continue
        repo = match.group("repo").replace("--", "/", 1)
        if not (is_repo_id(repo) or re.fullmatch(NAME_PART, repo)):
            continue
        revision = path_in_repo = None
        rest = parts[index + 1 :]
        if len(rest) >= 3 and rest[0] == "snapshots" and is_commit(rest[1]):
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


def path_parts(path: str) -> list[str]:
    """Path components of a POSIX or Windows path string."""
    if "\\" in path and "/" not in path:
        return list(PureWindowsPath(path).parts)
    return list(PurePosixPath(path).parts)
