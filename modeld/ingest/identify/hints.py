"""Clues for the Hugging Face lookup: repo names, base models and titles found in GGUF
keys, safetensors metadata (modelspec, kohya) and companion config files."""

from __future__ import annotations

from typing import Any

from modeld.ingest.identify.facts import Facts

_GGUF_HINT_KEYS = (
    "general.name",
    "general.basename",
    "general.finetune",
    "general.organization",
    "general.url",
    "general.repo_url",
    "general.size_label",
    "general.quantized_by",
)


def hints_of(f: Facts) -> dict[str, str]:
    hints: dict[str, str] = {}
    for key, value in f.kv.items():
        if key in _GGUF_HINT_KEYS or key.startswith(("general.source.", "general.base_model.")):
            hints[key] = _short(value)
    for key, value in f.metadata.items():
        if (key.startswith("modelspec.") and key != "modelspec.thumbnail") or key in (
            "ss_sd_model_name",
            "ss_base_model_version",
            "ss_output_name",
            "ss_network_module",
        ):
            hints[key] = _short(value)
    for key in ("_name_or_path", "model_type"):
        if f.config.get(key):
            hints[f"config.{key}"] = _short(f.config[key])
    if f.adapter_config.get("base_model_name_or_path"):
        hints["adapter.base_model"] = _short(f.adapter_config["base_model_name_or_path"])
    architectures = f.config.get("architectures")
    if isinstance(architectures, list) and architectures:
        hints["config.architectures"] = _short(",".join(map(str, architectures)))
    return hints


def _short(value: Any, limit: int = 512) -> str:
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= limit else text[:limit] + "…"
