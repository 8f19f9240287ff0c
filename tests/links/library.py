"""Make library models for link tests: real files, a real metadata.json, real index rows.

Goes through the same functions the importer uses (write_metadata, and
modeld.library.index.upsert_model for the index), so what the links code
reads is what a real import leaves behind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from modeld.config import Config
from modeld.library.index import upsert_model
from modeld.library.layout import METADATA_NAME, OVERRIDES_NAME
from modeld.library.metadata import FileEntry, ModelMeta, write_metadata
from modeld.vocab.hashing import hash_file
from tests import modelfiles


@dataclass(frozen=True)
class Added:
    meta: ModelMeta
    folder: Path

    @property
    def id(self) -> str:
        return self.meta.id

    def path(self, rel: str | None = None) -> Path:
        """A file of the model (default: its only/first file)."""
        return self.folder / (rel or self.meta.files[0].name)


# the folders a current ComfyUI install has under models/ for the model types modeld links
COMFY_FOLDERS = frozenset(
    {
        "checkpoints",
        "loras",
        "vae",
        "controlnet",
        "embeddings",
        "upscale_models",
        "text_encoders",
        "clip_vision",
        "diffusion_models",
        "diffusers",
        "hypernetworks",
    }
)


def add_model(
    config: Config,
    name: str,
    model_type: str,
    *,
    family: str = "sd15",
    fmt: str = "safetensors",
    write: Callable[[Path], object] | None = None,
    hub: dict | None = None,
) -> Added:
    """A model folder `<root>/<type>/<family>/<name>/` with files, metadata.json and index rows.

    `write(folder)` writes the model's files; by default one small safetensors
    file named after the model, with the name in its header so every model's
    bytes (and hashes) differ.
    """
    root = config.library_root
    folder = root / model_type / family / name
    folder.mkdir(parents=True, exist_ok=True)
    if write is None:
        modelfiles.write_safetensors(
            folder / f"{name}.safetensors", {"w": ("F16", (8,))}, metadata={"name": name}
        )
    else:
        write(folder)
    paths = sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and p.name not in (METADATA_NAME, OVERRIDES_NAME)
    )
    entries = []
    for path in paths:
        digests = hash_file(path)
        rel = path.relative_to(folder).as_posix()
        entries.append(FileEntry(rel, digests.size, digests.sha256, digests.blake3, path.name))
    primary = max(entries, key=lambda e: (e.size, e.name))
    meta = ModelMeta(
        id=f"m{primary.blake3[:15]}",
        name=name,
        model_type=model_type,
        family=family,
        format=fmt,
        size=sum(e.size for e in entries),
        sha256=primary.sha256,
        blake3=primary.blake3,
        files=entries,
        hub=hub,
    )
    write_metadata(folder, meta)
    upsert_model(root, folder, meta)
    return Added(meta, folder)


def add_pipeline(config: Config, name: str, family: str = "sd15") -> Added:
    """A diffusers pipeline folder (model_index.json and its components) as one model."""
    return add_model(
        config,
        name,
        "diffusers",
        family=family,
        fmt="diffusers",
        write=lambda f: modelfiles.make_diffusers_folder(f, family),
    )


def comfyui_tree(
    path: Path, folders: tuple[str, ...] | None = None, version: str = "0.3.40"
) -> Path:
    """A ComfyUI install as it looks on disk: the folders under models/ and its version file."""
    names = folders or (*sorted(COMFY_FOLDERS), "configs")
    for name in names:
        (path / "models" / name).mkdir(parents=True, exist_ok=True)
    (path / "comfyui_version.py").write_text(f'__version__ = "{version}"\n')
    (path / "main.py").write_text("# ComfyUI entry point (never run by modeld)\n")
    return path
