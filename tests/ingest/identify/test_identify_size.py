"""Parameter count and size class."""

from __future__ import annotations

import math

from identify_support import identify_path

from modeld.ingest.identify import humanize_params
from tests import modelfiles


def test_params_and_size_class_from_the_header(tmp_path):
    tensors = modelfiles.llm_tensors("llama", layers=32, hidden=4096)
    _, identity = identify_path(modelfiles.write_safetensors(tmp_path / "big.safetensors", tensors))
    assert identity.params == sum(math.prod(shape) for _dtype, shape in tensors.values())
    assert identity.size_class.value == humanize_params(identity.params)
    assert humanize_params(7_241_732_096) == "7.2B"
    assert humanize_params(13_000_000_000) == "13B"
    assert humanize_params(135_000_000) == "135M"
    assert humanize_params(999) == "999"
