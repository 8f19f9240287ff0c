"""metadata.json: the source of truth for one model, written atomically.

The file holds every field of the contract's model object (absolute paths as
of the last write; the folder's real location wins on read, so a moved
library stays correct), plus original file names, import time, where each
label came from, and any keys other components add (kept on round-trip).

Original names are kept exactly, whatever the file system allowed.
`files[].original_name` is the name as text, exact when its bytes are
UTF-8 (newlines and control characters included: JSON escapes them). When
they are not, `original_name` is a readable form ('caf\\xe9.gguf') and
`files[].original_name_base64` holds the exact bytes (base64 of
`os.fsencode(name)`); a reader uses the bytes when that key is present.
`sources` (where the files came from) is kept the same way: when any source
path is not UTF-8, `sources_base64` is a list as long as `sources`, holding
the base64 bytes of those paths and null for the others. In memory both are
`os.fsdecode` strings, so they name the very same files again.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modeld.library.layout import METADATA_NAME
from modeld.vocab.atomic import atomic_write_json
from modeld.vocab.naming import display_name, is_text

SCHEMA = 1

# Several daemon threads re-read and rewrite an existing model's metadata.json
# (the importer attaching a late preview, the Hub enricher recording a match):
# each holds this lock from its read to its write, so neither loses the other's.
UPDATE_LOCK = threading.RLock()


@dataclass
class FileEntry:
    name: str  # relative to the model folder, '/'-separated
    size: int
    sha256: str
    blake3: str
    original_name: str  # as os.fsdecode gives it: lone surrogates for non-UTF-8 bytes


@dataclass
class ModelMeta:
    id: str
    name: str
    model_type: str
    family: str
    format: str
    size: int
    sha256: str
    blake3: str
    files: list[FileEntry]
    precision: str | None = None
    quant: str | None = None
    tags: list[str] = field(default_factory=list)
    description: str = ""
    hub: dict[str, Any] | None = None
    imported_at: float = field(default_factory=time.time)
    sources: list[str] = field(default_factory=list)
    labels: dict[str, Any] = field(default_factory=dict)
    # keys written by other components or newer versions, preserved verbatim
    extra: dict[str, Any] = field(default_factory=dict)

    def model_object(self, folder: Path) -> dict[str, Any]:
        """The contract's model object, with absolute paths under `folder`."""
        return {
            "id": self.id,
            "name": self.name,
            "model_type": self.model_type,
            "family": self.family,
            "format": self.format,
            "precision": self.precision,
            "quant": self.quant,
            "size": self.size,
            "path": str(folder),
            "sha256": self.sha256,
            "blake3": self.blake3,
            "files": [
                {
                    "path": str(folder / f.name),
                    "size": f.size,
                    "sha256": f.sha256,
                    "blake3": f.blake3,
                }
                for f in self.files
            ],
            "tags": list(self.tags),
            "hub": self.hub,
        }

    def to_json(self, folder: Path) -> dict[str, Any]:
        document = self.model_object(folder)
        for entry, file in zip(document["files"], self.files, strict=True):
            entry["name"] = file.name
            entry["original_name"], exact = name_to_json(file.original_name)
            if exact is not None:
                entry["original_name_base64"] = exact
        sources = [name_to_json(source) for source in self.sources]
        document.update(
            schema=SCHEMA,
            description=self.description,
            imported_at=self.imported_at,
            imported_at_iso=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.imported_at)),
            sources=[text for text, _exact in sources],
            labels=self.labels,
        )
        if any(exact is not None for _text, exact in sources):
            document["sources_base64"] = [exact for _text, exact in sources]
        return {**self.extra, **document}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ModelMeta:
        """Parse a metadata.json document; raises ValueError naming what is wrong."""
        try:
            files = [
                FileEntry(
                    name=f["name"],
                    size=int(f["size"]),
                    sha256=f["sha256"],
                    blake3=f["blake3"],
                    original_name=name_from_json(
                        f.get("original_name", f["name"]), f.get("original_name_base64")
                    ),
                )
                for f in data["files"]
            ]
            sources = list(data.get("sources") or [])
            exact = data.get("sources_base64") or [None] * len(sources)
            known = {
                *cls.__dataclass_fields__,
                "path",
                "schema",
                "imported_at_iso",
                "sources_base64",
            }
            return cls(
                id=data["id"],
                name=data["name"],
                model_type=data["model_type"],
                family=data["family"],
                format=data["format"],
                size=int(data["size"]),
                sha256=data["sha256"],
                blake3=data["blake3"],
                files=files,
                precision=data.get("precision"),
                quant=data.get("quant"),
                tags=list(data.get("tags") or []),
                description=data.get("description") or "",
                hub=data.get("hub"),
                imported_at=float(data.get("imported_at") or 0.0),
                sources=[
                    name_from_json(text, b64) for text, b64 in zip(sources, exact, strict=True)
                ],
                labels=dict(data.get("labels") or {}),
                extra={k: v for k, v in data.items() if k not in known},
            )
        except (KeyError, TypeError, ValueError) as exc:  # binascii.Error is a ValueError
            raise ValueError(f"invalid metadata: {exc!r}") from exc


def name_to_json(name: str) -> tuple[str, str | None]:
    """(text, None) for a UTF-8 name; (readable text, base64 of its bytes) otherwise."""
    if is_text(name):
        return name, None
    return display_name(name), base64.b64encode(os.fsencode(name)).decode("ascii")


def name_from_json(text: str, exact: str | None) -> str:
    """The name `name_to_json` wrote, as os.fsdecode would give it."""
    if not isinstance(text, str):
        raise TypeError(f"a name must be text, not {text!r}")
    if exact is None:
        return text
    return os.fsdecode(base64.b64decode(exact, validate=True))


def write_metadata(folder: Path, meta: ModelMeta, located_in: Path | None = None) -> None:
    """Write `folder`/metadata.json; `located_in` is where the folder will end up
    (a staging folder about to be renamed), for the absolute paths inside."""
    atomic_write_json(folder / METADATA_NAME, meta.to_json(located_in or folder))


def read_metadata(folder: Path) -> ModelMeta:
    path = folder / METADATA_NAME
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: not a JSON object")
    return ModelMeta.from_json(data)
