"""Pickle-based checkpoints (.ckpt .pt .pth .bin .pkl): scanned, never unpickled.

- `allowlist`: the globals a pickle may import (torch weights_only, ComfyUI, A1111);
- `walk`: one stream's opcodes on a symbolic stack (imports, names, storages);
- `verdict`: both scans (our walk and picklescan) judged against the allow-list;
- `raw`: plain pickles and torch's legacy five-stream format;
- `torchzip`: torch's zip format, TorchScript archives, hidden and unreadable members.
"""

from modeld.ingest.formats.pickles.allowlist import HARMLESS, is_harmless
from modeld.ingest.formats.pickles.raw import looks_like_pickle, read_raw_pickle, starts_a_pickle
from modeld.ingest.formats.pickles.torchzip import looks_like_zip, read_torch_zip

__all__ = [
    "HARMLESS",
    "is_harmless",
    "looks_like_pickle",
    "looks_like_zip",
    "read_raw_pickle",
    "read_torch_zip",
    "starts_a_pickle",
]
