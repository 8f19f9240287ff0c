"""VAEs: ``encoder.down*``/``decoder.up*`` and nothing else (LDM or diffusers layout,
bare or under a checkpoint's ``first_stage_model.``/``vae.`` prefix)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from modeld.ingest.identify.facts import Facts
from modeld.ingest.identify.labels import SURE, UNKNOWN, Kind, Label


def vae(f: Facts, extra: dict[str, Any]) -> Kind | None:
    stripped = _strip(f.names, ("first_stage_model.", "vae."))
    ldm = any(n.startswith("encoder.down.") for n in stripped) and any(
        n.startswith("decoder.up.") for n in stripped
    )
    diffusers = any(n.startswith("encoder.down_blocks.") for n in stripped) and any(
        n.startswith("decoder.up_blocks.") for n in stripped
    )
    if not (ldm or diffusers):
        return None
    if not all(
        n.startswith(("encoder.", "decoder.", "quant_conv", "post_quant_conv")) for n in stripped
    ):
        return None
    latent = next(
        (s[1] for n, s in f.shapes.items() if n.endswith("decoder.conv_in.weight") and len(s) > 1),
        None,
    )
    extra["latent_channels"] = latent
    # 4-channel VAEs are shared by sd15/sd2/sdxl and 16-channel ones by sd3/flux:
    # the shapes cannot tell them apart, so metadata or the name decides
    return Label("vae", "header", SURE), UNKNOWN


def _strip(names: Iterable[str], prefixes: tuple[str, ...]) -> list[str]:
    out = []
    for name in names:
        for prefix in prefixes:
            if name.startswith(prefix):
                name = name[len(prefix) :]
                break
        out.append(name)
    return out
