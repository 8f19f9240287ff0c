"""Stable Diffusion web UI (AUTOMATIC1111) and its forks Forge and reForge.

Most models go to `<path>/models/<Folder>/`, but textual-inversion
embeddings live in `<path>/embeddings/`, outside `models/`. So the kind's
models dir is the install root, and links are made (and orphans looked for)
only below `models/` and `embeddings/`: the root also holds the venv,
extensions and repositories, which are nobody's model folders.

Forge also loads a bare diffusion model (a Flux or SD3 transformer without
its text encoders) from `models/Stable-diffusion`, with the encoders from
`models/text_encoder`; that folder is how a Forge install is told apart.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from modeld.links.kinds.base import AppKind, discovered_folder
from modeld.links.model import LibraryModel

CHECKPOINTS = "models/Stable-diffusion"
FORGE_TEXT_ENCODERS = "models/text_encoder"

FOLDERS: dict[str, str] = {
    "checkpoint": CHECKPOINTS,
    "lora": "models/Lora",
    "vae": "models/VAE",
    "controlnet": "models/ControlNet",
    "embedding": "embeddings",
    "upscaler": "models/ESRGAN",
    "hypernetwork": "models/hypernetworks",
}
FORGE_ONLY: dict[str, str] = {
    "diffusion_model": CHECKPOINTS,
    "text_encoder": FORGE_TEXT_ENCODERS,
}

# folders the web UI ships for tools of its own (face restorers, interrogators)
OWN_FOLDERS = frozenset(
    {
        "models/Codeformer",
        "models/GFPGAN",
        "models/BLIP",
        "models/deepbooru",
        "models/karlo",
        "models/LDSR",
        "models/SwinIR",
        "models/ScuNET",
        "models/VAE-approx",
        "models/RealESRGAN",
    }
)


class StableDiffusionWebUI(AppKind):
    name = "a1111"
    known_folders = OWN_FOLDERS | set(FOLDERS.values()) | set(FORGE_ONLY.values())
    link_roots = ("models", "embeddings")

    def models_dir(self, app_root: Path) -> Path:
        return app_root

    def default_folder(self, model: LibraryModel, available: Collection[str]) -> str | None:
        if model.is_folder_model:
            return None  # the web UI loads single files only
        if model.model_type in FOLDERS:
            return FOLDERS[model.model_type]
        if FORGE_TEXT_ENCODERS in available and model.model_type in FORGE_ONLY:
            return FORGE_ONLY[model.model_type]
        return discovered_folder(model, available)
