"""ComfyUI: `<path>/models/<folder>/`, one folder per model type.

Older ComfyUI releases call `text_encoders` `clip` and `diffusion_models`
`unet`; the old name is used only where it is the one that exists. Folders
that custom nodes add (ipadapter, sams, LLM, ...) are discovered at start and
used for the model type of the same name; `[app.folders]` maps anything else.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from pathlib import Path

from modeld.links.kinds.base import AppKind, discovered_folder, pick_existing
from modeld.links.model import LibraryModel

# model_type -> folder names, preferred first; a later name is used only when it
# exists and none before it does.
FOLDERS: dict[str, tuple[str, ...]] = {
    "checkpoint": ("checkpoints",),
    "lora": ("loras",),
    "vae": ("vae",),
    "controlnet": ("controlnet",),
    "embedding": ("embeddings",),
    "upscaler": ("upscale_models",),
    "text_encoder": ("text_encoders", "clip"),
    "clip_vision": ("clip_vision",),
    "diffusion_model": ("diffusion_models", "unet"),
    "diffusers": ("diffusers",),
    "hypernetwork": ("hypernetworks",),
}

# folders ComfyUI itself ships that hold no model type of ours (not worth announcing)
OWN_FOLDERS = frozenset(
    {"configs", "vae_approx", "gligen", "photomaker", "style_models", "audio_encoders"}
)

_VERSION = re.compile(r"""^__version__\s*=\s*["']([^"']+)["']""", re.MULTILINE)


class ComfyUI(AppKind):
    name = "comfyui"
    known_folders = OWN_FOLDERS | {name for names in FOLDERS.values() for name in names}

    def models_dir(self, app_root: Path) -> Path:
        return app_root / "models"

    def default_folder(self, model: LibraryModel, available: Collection[str]) -> str | None:
        if model.is_folder_model:  # whatever its type, ComfyUI loads pipelines from here
            return pick_existing(available, *FOLDERS["diffusers"])
        names = FOLDERS.get(model.model_type)
        if names:
            return pick_existing(available, *names)
        return discovered_folder(model, available)

    def detect_version(self, app_root: Path) -> str | None:
        try:
            text = (app_root / "comfyui_version.py").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
        match = _VERSION.search(text[:4096])
        return match.group(1) if match else None
