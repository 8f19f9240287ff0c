"""A library model as the link code sees it: read from the index in bulk.

The index is a cache of metadata.json, kept in step by the importer and the
scanner; links read it because a full reconcile over ten thousand models must
not open ten thousand JSON files.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from modeld.library.db import FileRecord, ModelRecord
from modeld.vocab.filenames import is_weights_name

FOLDER_FORMATS = frozenset({"diffusers"})
FOLDER_MARKER = "model_index.json"  # the file that makes a folder a diffusers pipeline


@dataclass(frozen=True)
class ModelFile:
    rel: str  # relative to the model folder, '/'-separated
    size: int
    blake3: str

    @property
    def is_weights(self) -> bool:
        """Weights rather than a companion (preview, config, .civitai.info)."""
        return is_weights_name(self.rel)


@dataclass(frozen=True)
class LibraryModel:
    model_id: str
    name: str
    model_type: str
    family: str
    format: str
    rel_path: str  # the model folder, relative to the library root
    blake3: str  # of the primary file
    files: tuple[ModelFile, ...]
    hub_repo: str | None = None  # "owner/name" once the Hub lookup confirmed one

    @property
    def folder_name(self) -> str:
        return posixpath.basename(self.rel_path)

    @property
    def is_folder_model(self) -> bool:
        """A diffusers pipeline: apps load the folder, so it is linked as one."""
        return self.model_type in FOLDER_FORMATS or self.format in FOLDER_FORMATS

    @property
    def folder_root(self) -> str:
        """The pipeline folder inside the model folder ('' = the model folder itself)."""
        markers = [f.rel for f in self.files if posixpath.basename(f.rel) == FOLDER_MARKER]
        return posixpath.dirname(min(markers, key=len)) if markers else ""

    def file(self, rel: str) -> ModelFile | None:
        return next((f for f in self.files if f.rel == rel), None)


def hub_repo_of(hub_json: str | None) -> str | None:
    if not hub_json:
        return None
    try:
        hub = json.loads(hub_json)
    except ValueError:
        return None
    if not isinstance(hub, dict):
        return None
    repo = hub.get("repo_id") or hub.get("repo") or hub.get("id")
    return repo if isinstance(repo, str) and repo.count("/") == 1 else None


def load_models(model_ids: Iterable[str] | None = None) -> dict[str, LibraryModel]:
    """Models (all, or those ids) with their files, in two queries."""
    query = ModelRecord.select(
        ModelRecord.pk,
        ModelRecord.model_id,
        ModelRecord.name,
        ModelRecord.model_type,
        ModelRecord.family,
        ModelRecord.format,
        ModelRecord.rel_path,
        ModelRecord.blake3,
        ModelRecord.hub,
    )
    files_query = FileRecord.select(
        FileRecord.model, FileRecord.rel_path, FileRecord.size, FileRecord.blake3
    )
    if model_ids is not None:
        ids = list(model_ids)
        if not ids:
            return {}
        query = query.where(ModelRecord.model_id.in_(ids))
        files_query = files_query.join(ModelRecord).where(ModelRecord.model_id.in_(ids))
    file_rows: Iterator[tuple[int, str, int, str]] = files_query.tuples().iterator()
    files_by_pk: dict[int, list[ModelFile]] = {}
    for model_pk, rel, size, blake in file_rows:
        files_by_pk.setdefault(model_pk, []).append(ModelFile(rel, size, blake))
    # peewee's stubs say tuples() returns the query itself (iterating ModelRecord
    # objects); it yields one tuple per row, in the order of the select above
    rows: Iterable[tuple[int, str, str, str, str, str, str, str, str | None]]
    rows = query.tuples()  # type: ignore[assignment]
    models = {}
    for pk, model_id, name, model_type, family, fmt, rel_path, blake, hub in rows:
        files = tuple(sorted(files_by_pk.get(pk, ()), key=lambda f: f.rel))
        models[model_id] = LibraryModel(
            model_id=model_id,
            name=name,
            model_type=model_type,
            family=family,
            format=fmt,
            rel_path=rel_path,
            blake3=blake,
            files=files,
            hub_repo=hub_repo_of(hub),
        )
    return models
