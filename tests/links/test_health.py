"""Check and repair on real links: missing, broken, orphaned, moves, unmounted drives.

The rule every test here leans on: repair and cleanup touch only registered
links and dangling symlinks into the library, never a real file or folder.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
from pathlib import Path

from modeld.config import Config
from modeld.library.db import open_index
from modeld.links import LinkManager
from modeld.links.registry import LinkRecord
from tests import modelfiles
from tests.links.conftest import app_config, comfy_app
from tests.links.library import add_model, add_pipeline


def _linked(config, *names: str, model_type: str = "lora"):
    models = [add_model(config, name, model_type) for name in names]
    manager = LinkManager(config)
    manager.sync_all()
    return manager, models


def _with_library(config: Config, root: Path) -> Config:
    """The same config with the library (and its index, which lives inside it) at `root`."""
    return dataclasses.replace(config, library_root=root, index_path=root / ".modeld" / "index.db")


def _lora_link(comfy: Path, name: str) -> Path:
    return comfy / "models" / "loras" / f"{name}.safetensors"


def test_check_reports_the_contract_shape_and_counts(lconfig, comfy):
    manager, (_a, b, c) = _linked(lconfig, "a", "b", "c")
    _lora_link(comfy, "a").unlink()  # missing
    other = add_model(lconfig, "other", "checkpoint")
    _lora_link(comfy, "b").unlink()
    _lora_link(comfy, "b").symlink_to(other.path())  # broken: reaches another file
    stray = comfy / "models" / "loras" / "by-hand.safetensors"
    stray.symlink_to(c.path())  # orphaned: into the library, not registered
    outside = comfy / "models" / "loras" / "outside.safetensors"
    outside.symlink_to("/usr/bin/env")  # not into the library: none of our business

    result = manager.check()
    assert result["checked"] == 3 and result["ok"] == 1
    assert [link["path"] for link in result["missing"]] == [str(_lora_link(comfy, "a"))]
    [broken] = result["broken"]
    assert broken["path"] == str(_lora_link(comfy, "b"))
    assert broken["target"] == str(b.path()) and broken["status"] == "broken"
    assert broken["kind"] == "symlink" and broken["app"] == "comfyui"
    [orphan] = result["orphaned"]
    assert orphan["path"] == str(stray) and orphan["status"] == "orphaned"
    assert manager.counts() == {"ok": 1, "broken": 1, "missing": 1, "orphaned": 1, "offline": 0}
    statuses = {link["path"]: link["status"] for link in manager.links_for_model(b.id)}
    assert statuses == {str(_lora_link(comfy, "b")): "broken"}
    # check changed nothing on disk
    assert not os.path.lexists(_lora_link(comfy, "a"))
    assert os.readlink(stray) == str(c.path())


def test_repair_recreates_repoints_adopts_and_removes_dangling_orphans(lconfig, comfy):
    manager, (a, b, c) = _linked(lconfig, "a", "b", "c")
    _lora_link(comfy, "a").unlink()
    _lora_link(comfy, "b").unlink()
    _lora_link(comfy, "b").symlink_to(comfy / "nowhere.safetensors")  # dangling
    adopted = comfy / "models" / "checkpoints" / "c-copy.safetensors"
    adopted.symlink_to(c.path())
    dangling = comfy / "models" / "loras" / "gone.safetensors"
    dangling.symlink_to(lconfig.library_root / "lora" / "sd15" / "gone" / "gone.safetensors")
    outside = comfy / "models" / "loras" / "outside-dangling.safetensors"
    outside.symlink_to("/nonexistent/elsewhere.safetensors")

    report = manager.repair()
    assert (report["recreated"], report["repointed"], report["adopted"], report["removed"]) == (
        1,
        1,
        1,
        1,
    )
    assert report["fixed"] == 4 and report["unfixed"] == 0
    for model in (a, b):
        assert _lora_link(comfy, model.meta.name).resolve() == model.path().resolve()
    assert LinkRecord.get(LinkRecord.path == str(adopted)).model_id == c.id
    assert not os.path.lexists(dangling)
    assert (
        os.readlink(outside) == "/nonexistent/elsewhere.safetensors"
    )  # not ours, not into the library
    after = manager.check()
    assert after["ok"] == 4 and after["broken"] == after["missing"] == after["orphaned"] == []


def test_real_files_and_folders_at_link_paths_survive_everything(lconfig, comfy):
    manager, (a, b, _d) = _linked(lconfig, "a", "b", "d")
    diff = add_pipeline(lconfig, "pipe")
    manager.sync_all()
    # a user replaces our links with a real file and a real folder full of data
    file_path = _lora_link(comfy, "a")
    file_path.unlink()
    file_path.write_bytes(b"precious user bytes")
    folder_path = comfy / "models" / "diffusers" / "pipe"
    folder_path.unlink()
    (folder_path / "sub").mkdir(parents=True)
    (folder_path / "sub" / "weights.bin").write_bytes(b"precious folder bytes")
    # and puts a real file inside the library's expected link folder for b too
    b_link = _lora_link(comfy, "b")
    b_link.unlink()
    b_link.mkdir()
    (b_link / "keep.txt").write_text("keep me")

    def intact() -> None:
        assert file_path.read_bytes() == b"precious user bytes" and not file_path.is_symlink()
        assert (folder_path / "sub" / "weights.bin").read_bytes() == b"precious folder bytes"
        assert not folder_path.is_symlink()
        assert (b_link / "keep.txt").read_text() == "keep me"

    assert len(manager.check()["broken"]) == 3
    intact()
    report = manager.repair()
    intact()
    assert report["released"] == 3
    # the models are linked again beside the user's things
    assert sorted(p.name for p in (comfy / "models" / "loras").iterdir()) == sorted(
        [
            "a.safetensors",
            f"a-{a.meta.blake3[:8]}.safetensors",
            "b.safetensors",
            f"b-{b.meta.blake3[:8]}.safetensors",
            "d.safetensors",
        ]
    )
    manager.sync_all()
    manager.repair()
    intact()
    for model in (a, b, diff):
        manager.remove_model_links(model.id)
    intact()
    manager.sync_all()
    intact()
    assert manager.check()["broken"] == []


def test_moved_library_is_found_again_in_one_pass(home, comfy, lconfig, caplog):
    manager, models = _linked(lconfig, *(f"m{i}" for i in range(20)))
    ckpt = add_model(
        lconfig, "big", "checkpoint", write=lambda f: modelfiles.make_shard_set(f, "model", 2)
    )
    manager.sync_all()
    # the drive is remounted elsewhere (…/library -> …/usb); a sibling …/usb2 whose name
    # starts with the new root holds another tool's links, one of them dangling: a prefix
    # match that is not a parent folder must not make them look like ours
    old_root = lconfig.library_root
    new_root = home / "usb"
    shutil.move(old_root, new_root)
    sibling = home / "usb2"
    sibling.mkdir()
    (sibling / "x.safetensors").write_bytes(b"x")
    theirs = comfy / "models" / "loras" / "theirs.safetensors"
    theirs.symlink_to(sibling / "x.safetensors")
    theirs_dangling = comfy / "models" / "loras" / "theirs-gone.safetensors"
    theirs_dangling.symlink_to(sibling / "gone.safetensors")

    moved = _with_library(app_config(home, comfy_app(comfy), name="moved.toml"), new_root)

    open_index(moved.index_path)
    caplog.set_level(logging.INFO)
    caplog.clear()
    manager = LinkManager(moved)
    check = manager.check()
    assert check["relocated"]["library"] == {"from": str(old_root), "to": str(new_root)}
    report = manager.repair()
    assert report["relocated"]["library"]["to"] == str(new_root)
    assert report["repointed"] == 23 and report["unfixed"] == 0
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == []  # one pass, no storm of errors
    for model in models:
        link = _lora_link(comfy, model.meta.name)
        assert (
            link.resolve()
            == (
                new_root / model.folder.relative_to(old_root) / f"{model.meta.name}.safetensors"
            ).resolve()
        )
    assert {row.target.startswith(str(new_root) + "/") for row in LinkRecord.select()} == {True}
    group = comfy / "models" / "checkpoints" / "big"
    assert sorted(p.resolve() for p in group.iterdir()) == sorted(
        (new_root / "checkpoint" / "sd15" / "big" / f.name).resolve() for f in ckpt.meta.files
    )
    assert os.readlink(theirs) == str(sibling / "x.safetensors")
    assert os.readlink(theirs_dangling) == str(sibling / "gone.safetensors")
    after = manager.check()
    assert after["ok"] == 23 and after["orphaned"] == []


def test_unmounted_library_changes_nothing_and_repair_resumes(lconfig, comfy):
    manager, (a, _b) = _linked(lconfig, "a", "b")
    _lora_link(comfy, "b").unlink()  # a real problem, to be fixed once the drive is back
    before = {p.name: os.readlink(p) for p in (comfy / "models" / "loras").iterdir()}
    rows_before = [
        (r.path, r.target, r.status) for r in LinkRecord.select().order_by(LinkRecord.pk)
    ]
    # the drive goes away: the library folder (and its marker) vanish behind the mount point
    hidden = lconfig.library_root.with_name("library-unplugged")
    os.rename(lconfig.library_root, hidden)
    lconfig.library_root.mkdir()  # the empty mount point stays

    assert manager.check()["library"] == "offline"
    assert manager.check()["offline"] == 2 and manager.check()["broken"] == []
    assert manager.repair()["library"] == "offline"
    assert manager.sync_all()["library"] == "offline"
    assert manager.sync_model(a.id)["library"] == "offline"
    assert manager.counts()["offline"] == 2
    assert [link["status"] for link in manager.links_for_model(a.id)] == ["offline"]
    assert {p.name: os.readlink(p) for p in (comfy / "models" / "loras").iterdir()} == before
    rows_after = [(r.path, r.target, r.status) for r in LinkRecord.select().order_by(LinkRecord.pk)]
    assert rows_after == rows_before

    lconfig.library_root.rmdir()
    os.rename(hidden, lconfig.library_root)  # plugged back in
    report = manager.repair()
    assert report["library"] == "online" and report["recreated"] == 1
    assert manager.check()["ok"] == 2


def test_unmounted_app_drive_is_left_alone(home, index):
    app_root = home / "usb" / "ComfyUI"
    config = app_config(home, comfy_app(app_root))
    lora = add_model(config, "style", "lora")
    report = LinkManager(config).sync_all()
    assert report["apps"][0]["state"] == "offline" and report["created"] == 0
    assert not (home / "usb").exists()  # nothing made on the bare mount point
    app_root.mkdir(parents=True)
    LinkManager(config).sync_all()
    assert (app_root / "models" / "loras" / "style.safetensors").resolve() == lora.path().resolve()
    shutil.move(home / "usb", home / "usb-away")
    result = LinkManager(config).check()
    assert result["offline"] == 1 and result["missing"] == []
    assert LinkManager(config).repair()["recreated"] == 0
    assert not (home / "usb").exists()


def test_moved_app_is_followed(home, comfy, lconfig):
    _manager, models = _linked(lconfig, "a", "b")
    new_place = home / "apps" / "deeper" / "ComfyUI"
    new_place.parent.mkdir(parents=True)
    shutil.move(comfy, new_place)  # relative links inside moved with it, and now miss
    config = app_config(home, comfy_app(new_place))
    report = LinkManager(config).repair()
    assert report["relocated"]["apps"]["comfyui"]["links"] == 2
    assert report["repointed"] == 2
    for model in models:
        assert _lora_link(new_place, model.meta.name).resolve() == model.path().resolve()
    paths = {row.path for row in LinkRecord.select()}
    assert paths == {str(_lora_link(new_place, m.meta.name)) for m in models}


def test_missing_library_file_removes_our_dangling_link_until_it_returns(lconfig, comfy):
    manager, (a,) = _linked(lconfig, "a")
    saved = a.path().read_bytes()
    a.path().unlink()
    report = manager.repair()
    assert report["unfixed"] == 1
    assert not os.path.lexists(_lora_link(comfy, "a"))  # apps crash on dangling links
    assert manager.check()["missing"][0]["reason"] == "the model's file is missing from the library"
    a.path().write_bytes(saved)
    assert manager.repair()["recreated"] == 1
    assert _lora_link(comfy, "a").resolve() == a.path().resolve()


def test_model_gone_from_the_index_loses_its_links(lconfig, comfy):
    from modeld.library.index import remove_model

    manager, (a, _b) = _linked(lconfig, "a", "b")
    remove_model(a.id)
    report = manager.sync_all()
    assert report["removed"] == 1
    assert not os.path.lexists(_lora_link(comfy, "a"))
    assert _lora_link(comfy, "b").is_symlink()


def test_reimported_model_keeps_its_links_found_by_hash(lconfig, comfy):
    from modeld.library.index import remove_model, upsert_model

    manager, (a,) = _linked(lconfig, "a")
    remove_model(a.id)
    a.meta.id = "reimported-" + a.meta.id
    upsert_model(lconfig.library_root, a.folder, a.meta)
    report = manager.repair()
    assert report["removed"] == 0 and report["unfixed"] == 0
    assert LinkRecord.get().model_id == a.meta.id
    assert _lora_link(comfy, "a").is_symlink()


def test_stale_hardlink_is_replaced_only_when_it_holds_the_same_bytes(home, comfy, index):
    config = app_config(home, comfy_app(comfy, link="hardlink"))
    same = add_model(config, "same", "lora")
    other = add_model(config, "other", "lora")
    manager = LinkManager(config)
    manager.sync_all()
    # the library files are rewritten (new inodes): our hardlinks now hold old copies
    for model in (same, other):
        data = model.path().read_bytes()
        model.path().unlink()
        model.path().write_bytes(data)
    # and the user edited the bytes of the copy in the app for "other"
    edited = _lora_link(comfy, "other")
    edited.write_bytes(b"edited by the user")
    report = manager.repair()
    assert os.stat(_lora_link(comfy, "same")).st_ino == os.stat(same.path()).st_ino
    assert edited.read_bytes() == b"edited by the user"  # unique bytes: kept, released
    assert report["repointed"] == 1 and report["released"] == 1
    assert (
        os.stat(comfy / "models" / "loras" / f"other-{other.meta.blake3[:8]}.safetensors").st_ino
        == os.stat(other.path()).st_ino
    )


def test_cleanup_of_registered_paths_spares_real_files(home, comfy, lconfig):
    manager, (a, b) = _linked(lconfig, "a", "b")
    for model in (a, b):  # the user swaps both links for real copies
        link = _lora_link(comfy, model.meta.name)
        link.unlink()
        link.write_bytes(b"a real copy of " + model.meta.name.encode())
    assert manager.remove_model_links(a.id) == 0  # nothing of ours left to remove
    assert _lora_link(comfy, "a").read_bytes() == b"a real copy of a"
    # the app leaves the config: its registered paths are forgotten, the files stay
    assert LinkManager(app_config(home, "")).sync_all()["removed"] == 0
    assert _lora_link(comfy, "b").read_bytes() == b"a real copy of b"
    assert LinkRecord.select().count() == 0
