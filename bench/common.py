"""What several bench scripts use (imported once the script put the checkout on sys.path)."""

from __future__ import annotations

import os
from pathlib import Path

from tests import modelfiles


def random_safetensors(path: Path, size: int) -> Path:
    """A valid safetensors file of `size` bytes of random data (nothing compresses)."""
    payload = size - 128
    raw, _ = modelfiles.safetensors_header({"w": ("U8", [payload])})
    raw = raw.ljust(size - 8 - payload)  # the header's own padding
    block = os.urandom(16 << 20)
    with open(path, "wb") as handle:
        handle.write(len(raw).to_bytes(8, "little") + raw)
        for offset in range(0, payload, len(block)):
            handle.write(block[: min(len(block), payload - offset)])
    return path
