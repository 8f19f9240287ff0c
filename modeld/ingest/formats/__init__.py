"""Content sniffing: what a file really is, from its bytes, never its name.

`sniff(path)` (from `detect`) returns one of three values (`results`):
- `Sniffed`: a known format, with the parsed header facts identification needs;
- `Refused`: not a model file, or a broken one (with `retry=True` when it
  looks truncated, i.e. possibly still being written);
- `Dangerous`: a pickle whose imports could run code (goes to quarantine).

Nothing is ever executed or unpickled, and every length or count read from
a file is checked against the file's size and a cap before it is used; a
parser raises `Malformed` (from `modeld.vocab.reads`) for a broken file.
A whole import unit's verdict is `combine.inspect_unit`.

`Sniffed.details` carries, depending on the format (all optional):
- ``tensors``: tuple of ``(name, dtype, shape)``; dtype in the safetensors
  vocabulary (``F16``, ``BF16``, ``F8_E4M3``...) or a ggml type for GGUF
  (``Q4_K``, ``F32``...);
- ``metadata``: the safetensors ``__metadata__`` strings;
- ``kv``: GGUF key/values (everything but ``tokenizer.*``; big arrays left out);
- ``names`` / ``storages``: strings and storage types found in a pickle's
  opcodes (tensor names without unpickling; storage types give the dtype);
- ``config`` / ``adapter_config``: a companion ``config.json``
  (transformers/diffusers) or PEFT ``adapter_config.json``;
- ``pipeline`` / ``components``: a diffusers folder's ``model_index.json`` and
  per-component ``{"format", "tensors", "config"}``;
- ``files``: how many weights files were read.
"""

from modeld.ingest.formats.detect import sniff_file as sniff
from modeld.ingest.formats.results import Dangerous, Refused, Sniffed, SniffResult
from modeld.vocab.reads import Malformed

__all__ = ["Dangerous", "Malformed", "Refused", "SniffResult", "Sniffed", "sniff"]
