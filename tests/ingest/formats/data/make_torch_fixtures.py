"""How the torch-written fixtures beside this script were made (run once, by hand).

They are written by torch itself (2.13.0, CPU), so the scanner is tested
against the reference writer, not against our own idea of its output. The
tests never load them with torch or pickle; CI does not install torch.

    python -m venv /tmp/torchvenv && /tmp/torchvenv/bin/pip install torch==2.13.0
    /tmp/torchvenv/bin/python tests/ingest/formats/data/make_torch_fixtures.py
"""

import sys
import types
from collections import OrderedDict
from pathlib import Path

import torch

HERE = Path(__file__).parent


class ModelCheckpoint:
    """What ComfyUI registers for old SD checkpoints: a data-only stand-in."""

    def __init__(self) -> None:
        self.best_model_score = None
        self.monitor = "val/loss"


ModelCheckpoint.__module__ = "pytorch_lightning.callbacks.model_checkpoint"


def _stand_in_for_pytorch_lightning() -> None:
    """pickle looks the class up by its module path to save it by reference."""
    path = ""
    for part in ModelCheckpoint.__module__.split("."):
        path = f"{path}.{part}" if path else part
        sys.modules.setdefault(path, types.ModuleType(path))
    sys.modules[ModelCheckpoint.__module__].ModelCheckpoint = ModelCheckpoint  # type: ignore[attr-defined]


def main() -> None:
    _stand_in_for_pytorch_lightning()
    weights = OrderedDict(
        [
            ("model.diffusion_model.out.2.weight", torch.zeros(4, 8, dtype=torch.float16)),
            ("model.diffusion_model.out.2.bias", torch.zeros(4, dtype=torch.float16)),
        ]
    )
    # an SD 1.x checkpoint as pytorch_lightning saved them in 2022
    checkpoint = {
        "epoch": 6,
        "global_step": 470000,
        "state_dict": weights,
        "callbacks": {ModelCheckpoint: {"best_model_score": None, "monitor": "val/loss"}},
    }
    torch.save(checkpoint, HERE / "sd1-with-callbacks.ckpt")
    legacy = HERE / "sd1-with-callbacks-legacy.ckpt"
    torch.save(checkpoint, legacy, _use_new_zipfile_serialization=False)
    float8 = {
        "w": torch.zeros(4, 4, dtype=torch.float8_e4m3fn),
        "v": torch.zeros(8, dtype=torch.float8_e4m3fn),
    }
    torch.save(float8, HERE / "float8.pt")
    # a whole module pickled: its class is not on any allow-list
    torch.save(torch.nn.Linear(2, 2), HERE / "whole-module.pt")


if __name__ == "__main__":
    main()
