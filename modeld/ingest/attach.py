"""A companion that arrives after its model: a preview, a .civitai.info, a .yaml.

Downloaders often fetch the preview after the weights, and users add one
later by hand. It belongs with the library model whose weights file it is
named after (`ink.preview.png` → `ink.safetensors`), so it joins that model
folder and its metadata.json, and its links follow.

Crash safety is the importer's: the bytes are copied into a journalled
staging folder, fsynced, moved into the model folder, recorded in
metadata.json, and only then, in move mode, removed from the source after
a byte-for-byte comparison. A crash before the record leaves the source in
place, and the next attempt finds the library copy and finishes the record.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from modeld.ingest import journal as journal_ops
from modeld.ingest.errors import NoOwner
from modeld.ingest.place import same_bytes
from modeld.library import index
from modeld.library.layout import staging_dir
from modeld.library.metadata import (
    UPDATE_LOCK,
    FileEntry,
    ModelMeta,
    read_metadata,
    write_metadata,
)
from modeld.vocab.atomic import fsync_dir
from modeld.vocab.filenames import candidate_stems, is_weights_name
from modeld.vocab.hashing import copy_and_hash
from modeld.vocab.naming import safe_component


@dataclass(frozen=True)
class Owner:
    model_id: str
    folder: Path


def find_owner(root: Path, name: str) -> Owner:
    """The one library model whose weights file `name` is named after (longest stem first).

    Library files carry safe names: the companion's is compared in that form too.
    """
    for stem in candidate_stems(safe_component(name, "file")):
        matches = {
            record.model_id: record
            for record, rel in index.models_with_file_stem(stem)
            if is_weights_name(rel)
        }
        if len(matches) > 1:
            listed = ", ".join(sorted(matches))
            raise NoOwner(f"named like {len(matches)} library models ({listed}); put it beside one")
        if matches:
            [record] = matches.values()
            return Owner(record.model_id, root / record.rel_path)
    what = PurePosixPath(name).suffix or name
    raise NoOwner(f"not a model file ({what}), and no model named like it here or in the library")


def attach(
    root: Path, journal: journal_ops.Journal, source: Path, owner: Owner, *, copy: bool
) -> tuple[ModelMeta, bool]:
    """Put `source` into the owner's folder and metadata.json.

    Returns the updated metadata and whether anything changed (False when the
    model already held these bytes under this name). Raises FileExistsError
    when the model holds different bytes under the name. Safe to call from
    any thread: the model folder's part runs under the metadata UPDATE_LOCK.
    """
    name = safe_component(source.name, "file")  # the original goes into metadata.json
    target = owner.folder / name
    staging = staging_dir(root) / f"attach-{os.getpid()}-{time.monotonic_ns()}"
    entry = journal.begin(
        stage="staging", mode="copy", staging=str(staging), sources={}, renamed=[], copied=[]
    )
    try:
        staging.mkdir(parents=True)
        staged = staging / name
        digests = copy_and_hash(source, staged)
        with UPDATE_LOCK:  # the name check, the rename and the record, as one step
            if target.exists():
                if not same_bytes(staged, target):
                    raise FileExistsError(f"{owner.model_id} already has a different {name}")
                staged.unlink()
            else:
                os.rename(staged, target)
                fsync_dir(owner.folder)
            meta = read_metadata(owner.folder)
            changed = all(f.name != name for f in meta.files)
            if changed:
                entry_for_file = FileEntry(
                    name, digests.size, digests.sha256, digests.blake3, original_name=source.name
                )
                meta.files.append(entry_for_file)
                meta.size += digests.size
                write_metadata(owner.folder, meta)
                index.upsert_model(root, owner.folder, meta)
    finally:
        journal_ops.roll_back(entry)  # drops the (now empty) staging folder and the entry
    if not copy and same_bytes(source, target):
        source.unlink()
    return meta, changed
