"""The last resorts: file and folder names, and the free-form header metadata.

These only fill a label the header left unknown, and say so: their labels are
marked ``name`` or ``metadata`` with less confidence than a tensor signature.
"""

from __future__ import annotations

import re

from modeld.ingest.identify.facts import Facts
from modeld.ingest.identify.labels import METADATA, Label

_TYPE_WORDS = (
    (re.compile(r"lora|lycoris|locon|loha|lokr", re.I), "lora"),
    (re.compile(r"controlnet|control[-_]|t2i[-_]?adapter", re.I), "controlnet"),
    (re.compile(r"(?<![a-z])vae(?![a-z])|(?<![a-z])ae\.", re.I), "vae"),
    (
        re.compile(r"esrgan|upscal|(?<![a-z0-9])[248]x[-_]|swinir|(?<![a-z])dat(?![a-z])", re.I),
        "upscaler",
    ),
    (re.compile(r"clip[-_]?vision|image[-_]?encoder|clip[-_]vit", re.I), "clip_vision"),
    (
        re.compile(r"text[-_]?encoder|(?<![a-z])t5|umt5|clip[-_]?[lg](?![a-z])", re.I),
        "text_encoder",
    ),
    (re.compile(r"embedding|textual[-_]?inversion", re.I), "embedding"),
)


def _first_match(table: tuple[tuple[re.Pattern[str], str], ...], text: str) -> str | None:
    """The value of the first (pattern, value) row whose pattern occurs in `text`."""
    return next((value for pattern, value in table if pattern.search(text)), None)


def type_from_name(f: Facts) -> Label | None:
    model_type = _first_match(_TYPE_WORDS, f"{f.unit_name} {f.file_name}")
    return Label(model_type, "name", 0.4) if model_type else None


_DIFFUSION_NAME_FAMILIES = (
    (re.compile(r"sd[-_ .]?xl|(?<![a-z])xl(?![a-z])|pony|illustrious|noobai", re.I), "sdxl"),
    (re.compile(r"sd[-_ .]?3|stable[-_ ]diffusion[-_ ]3", re.I), "sd3"),
    (re.compile(r"flux", re.I), "flux"),
    (re.compile(r"sd[-_ .]?1[-_ .]?5|sd[-_ .]?15|v1[-_.]5|sd[-_ .]?1[-_ .]?4", re.I), "sd15"),
    (re.compile(r"sd[-_ .]?2(?:[-_ .]?1)?(?![0-9])|v2[-_.]1", re.I), "sd2"),
)
_LLM_NAME_FAMILIES = (
    (re.compile(r"mi[sx]tral|codestral|ministral", re.I), "mistral"),
    (re.compile(r"llama", re.I), "llama"),
    (re.compile(r"qwen|qwq", re.I), "qwen"),
    (re.compile(r"gemma", re.I), "gemma"),
    (re.compile(r"(?<![a-z])phi[-_ ]?\d", re.I), "phi"),
    (re.compile(r"deepseek", re.I), "deepseek"),
    (re.compile(r"falcon", re.I), "falcon"),
    (re.compile(r"granite", re.I), "granite"),
)


def name_llm_family(text: str) -> str | None:
    return _first_match(_LLM_NAME_FAMILIES, text)


def family_from_name(f: Facts, llm_like: bool) -> Label | None:
    families = _LLM_NAME_FAMILIES if llm_like else _DIFFUSION_NAME_FAMILIES
    family = _first_match(families, f"{f.unit_name} {f.file_name}")
    return Label(family, "name", 0.4) if family else None


# kohya's ss_base_model_version and modelspec.architecture values
_METADATA_FAMILIES = (
    (re.compile(r"sdxl|stable-diffusion-xl", re.I), "sdxl"),
    (re.compile(r"sd3|stable-diffusion-3", re.I), "sd3"),
    (re.compile(r"flux", re.I), "flux"),
    (re.compile(r"sd_v1|stable-diffusion-v1", re.I), "sd15"),
    (re.compile(r"sd_v2|sd_2|stable-diffusion-v2", re.I), "sd2"),
)


def family_from_metadata(f: Facts) -> Label | None:
    for key in ("modelspec.architecture", "ss_base_model_version"):
        family = _first_match(_METADATA_FAMILIES, f.metadata.get(key) or "")
        if family:
            return Label(family, "metadata", METADATA)
    if f.metadata.get("ss_v2") == "True":
        return Label("sd2", "metadata", METADATA)
    return None
