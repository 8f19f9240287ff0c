"""Precision and quantization: GGUF's ``general.file_type``, the dominant tensor dtype,
``config.json``'s ``quantization_config``, and, failing those, the name."""

from __future__ import annotations

import re
from collections.abc import Mapping

from modeld.ingest.identify.facts import Facts
from modeld.ingest.identify.labels import LIKELY, METADATA, NAME, NONE, SURE, Label

# llama_ftype → quant name (general.file_type)
FILE_TYPES = {
    0: "F32",
    1: "F16",
    2: "Q4_0",
    3: "Q4_1",
    7: "Q8_0",
    8: "Q5_0",
    9: "Q5_1",
    10: "Q2_K",
    11: "Q3_K_S",
    12: "Q3_K_M",
    13: "Q3_K_L",
    14: "Q4_K_S",
    15: "Q4_K_M",
    16: "Q5_K_S",
    17: "Q5_K_M",
    18: "Q6_K",
    19: "IQ2_XXS",
    20: "IQ2_XS",
    21: "Q2_K_S",
    22: "IQ3_XS",
    23: "IQ3_XXS",
    24: "IQ1_S",
    25: "IQ4_NL",
    26: "IQ3_S",
    27: "IQ3_M",
    28: "IQ2_S",
    29: "IQ2_M",
    30: "IQ4_XS",
    31: "IQ1_M",
    32: "BF16",
    36: "TQ1_0",
    37: "TQ2_0",
    38: "MXFP4_MOE",
    39: "NVFP4",
    40: "Q1_0",
}
FLOAT_QUANTS = {"F32": "fp32", "F16": "fp16", "BF16": "bf16"}

DTYPE_PRECISION = {
    "F16": "fp16",
    "BF16": "bf16",
    "F32": "fp32",
    "F8_E4M3": "fp8",
    "F8_E5M2": "fp8",
}
_QUANT = re.compile(
    r"(?<![a-z0-9])(i?q[1-8](?:_[0-9kslmx]+)*|tq[12]_0|mxfp4(?:_moe)?|nf4|gptq|awq|exl2|int[48])(?![a-z0-9])",
    re.IGNORECASE,
)
_NAME_PRECISION = re.compile(r"(?<![a-z0-9])(fp16|bf16|fp32|fp8|f16|f32|half)(?![a-z0-9])", re.I)
_NAME_PRECISION_MAP = {
    "fp16": "fp16",
    "f16": "fp16",
    "half": "fp16",
    "bf16": "bf16",
    "fp32": "fp32",
    "f32": "fp32",
    "fp8": "fp8",
}


def precision_and_quant(f: Facts) -> tuple[Label, Label]:
    name = f"{f.unit_name} {f.file_name}"
    if f.format == "gguf":
        file_type = f.kv.get("general.file_type")
        if isinstance(file_type, int) and file_type in FILE_TYPES:
            file_quant = FILE_TYPES[file_type]
            if file_quant in FLOAT_QUANTS:
                return Label(FLOAT_QUANTS[file_quant], "header", SURE), NONE
            return NONE, Label(file_quant, "header", SURE)
        if match := _QUANT.search(name):
            return NONE, Label(match.group(1).upper(), "name", 0.6)
        dominant = _dominant(f.dtypes, exclude=("F32",)) or _dominant(f.dtypes)
        if dominant in FLOAT_QUANTS:
            return Label(FLOAT_QUANTS[dominant], "header", LIKELY), NONE
        return NONE, Label(dominant, "header", 0.6) if dominant else NONE

    quant = NONE
    quant_config = f.config.get("quantization_config")
    if isinstance(quant_config, dict) and quant_config.get("quant_method"):
        quant = Label(str(quant_config["quant_method"]).upper(), "metadata", METADATA)
    elif match := _QUANT.search(name):
        quant = Label(match.group(1).upper(), "name", 0.6)

    floats = {d: n for d, n in f.dtypes.items() if d in DTYPE_PRECISION}
    dominant = _dominant(floats)
    if dominant is not None and sum(floats.values()) >= sum(f.dtypes.values()) / 2:
        return Label(DTYPE_PRECISION[dominant], "header", SURE), quant
    if not f.dtypes and (match := _NAME_PRECISION.search(name)):
        return Label(_NAME_PRECISION_MAP[match.group(1).lower()], "name", NAME), quant
    return NONE, quant


def _dominant(counts: Mapping[str, int], exclude: tuple[str, ...] = ()) -> str | None:
    kept = {k: v for k, v in counts.items() if k not in exclude}
    if not kept:
        return None
    return max(kept, key=lambda k: (kept[k], k))
