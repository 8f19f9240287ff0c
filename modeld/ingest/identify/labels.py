"""The result of identification: labels that say where they came from and how sure they are."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


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
    size_class: Label | None = None
    # clues for the Hugging Face lookup: repo names, base models, titles
    hints: dict[str, str] = field(default_factory=dict)
    # what the rules saw: architecture, context width, LoRA style, ...
    extra: dict[str, Any] = field(default_factory=dict)

    def labels(self) -> dict[str, Any]:
        return {
            "model_type": asdict(self.model_type),
            "family": asdict(self.family),
            "precision": asdict(self.precision),
            "quant": asdict(self.quant),
            "params": self.params,
            "size_class": asdict(self.size_class) if self.size_class else None,
            "hints": dict(self.hints),
            "evidence": dict(self.extra),
        }


UNKNOWN = Label("unknown", "default", 0.0)
NONE = Label(None, "default", 0.0)

SURE = 0.95  # a signature only this kind of model has
LIKELY = 0.85  # a width or layout that points one way
METADATA = 0.8
NAME = 0.5

# what a kind rule answers: (model type, family)
Kind = tuple[Label, Label]
