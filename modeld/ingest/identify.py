"""What a model is: type, family, precision, quant (pure functions).

Each label records where it came from (`header`, `metadata` or `name`) and
how sure it is, so later stages (and users) can tell a fact from a guess.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from modeld.ingest.formats import Sniffed
from modeld.ingest.units import ImportUnit


@dataclass(frozen=True)
class Label:
    value: str | None
    source: str  # header | metadata | name | default
    confidence: float


@dataclass(frozen=True)
class Identity:
    model_type: Label
    family: Label
    precision: Label
    quant: Label
    params: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def labels(self) -> dict[str, Any]:
        return {
            "model_type": asdict(self.model_type),
            "family": asdict(self.family),
            "precision": asdict(self.precision),
            "quant": asdict(self.quant),
            "params": self.params,
        }


_QUANT = re.compile(r"(?<![a-z0-9])(i?q[1-8](?:_[0-9kslmx]+)*)(?![a-z0-9])", re.IGNORECASE)
_UNKNOWN = Label("unknown", "default", 0.0)
_NONE = Label(None, "default", 0.0)


def identify(unit: ImportUnit, sniffed: Sniffed) -> Identity:
    file_name = unit.primary.name
    quant = _NONE
    if match := _QUANT.search(file_name):
        quant = Label(match.group(1).upper(), "name", 0.6)
    model_type = Label("llm", "header", 0.6) if sniffed.format == "gguf" else _UNKNOWN
    return Identity(model_type=model_type, family=_UNKNOWN, precision=_NONE, quant=quant)
