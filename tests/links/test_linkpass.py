"""A link pass against a real index: registrations are seen at once and written at flush."""

from __future__ import annotations

from modeld.library.db import database
from modeld.links.linkpass import LinkPass
from modeld.links.model import load_models
from modeld.links.registry import LinkRecord
from modeld.links.sites import AppSite, Library
from tests.links.library import add_model


def test_a_registered_link_is_owned_before_flush_and_stored_by_it(lconfig, comfy):
    lora = add_model(lconfig, "detail-tweaker", "lora")
    model = load_models([lora.id])[lora.id]
    library = Library.probe(lconfig.library_root)
    assert library is not None
    lp = LinkPass(library, {})
    path = str(comfy / "models" / "loras" / "detail-tweaker.safetensors")
    group = str(comfy / "models" / "loras" / "detail-tweaker")

    lp.register("comfyui", model, model.files[0].rel, False, path, "symlink", group)
    # later placements in the same pass must see the path as taken, before any write
    assert lp.owner_of(path) == lora.id
    assert lp.group_owner(group) == lora.id
    assert path in lp.registered_paths()
    assert LinkRecord.select().count() == 0

    with database.atomic():
        lp.flush()
    row = LinkRecord.get(LinkRecord.path == path)
    assert (row.app, row.model_id, row.kind, row.group) == ("comfyui", lora.id, "symlink", group)
    assert row.target == library.target(model, model.files[0].rel)
    assert (row.blake3, row.size) == (model.files[0].blake3, model.files[0].size)
    assert lp.pending == []

    lp.status(row, "broken", "the link reaches nothing")
    with database.atomic():
        lp.flush()
    row = LinkRecord.get(LinkRecord.path == path)
    assert (row.status, row.reason) == ("broken", "the link reaches nothing")


def test_a_folder_problem_is_reported_once_per_pass(lconfig, comfy):
    library = Library.probe(lconfig.library_root)
    assert library is not None
    site = AppSite(lconfig.apps[0], library)
    lp = LinkPass(library, {site.name: site})

    for _ in range(3):  # e.g. one unwritable folder met by three models
        lp.setup_problem(site, PermissionError(13, "Permission denied"))
    lp.setup_problem(site, OSError(30, "Read-only file system"))
    assert [(p["app"], p["reason"]) for p in lp.report.problems] == [
        ("comfyui", "[Errno 13] Permission denied"),
        ("comfyui", "[Errno 30] Read-only file system"),
    ]
