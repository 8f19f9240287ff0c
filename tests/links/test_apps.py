"""The other kinds in real trees, and folders that are not what they seem."""

from __future__ import annotations

import os

from modeld.links import LinkManager
from modeld.links.registry import LinkRecord
from tests import modelfiles
from tests.links.conftest import app_config, comfy_app
from tests.links.library import add_model


def _app(name: str, kind: str, path) -> str:
    return f'\n[[app]]\nname = "{name}"\nkind = "{kind}"\npath = "{path}"\n'


def test_gguf_consumers_and_a_flat_share(home, index):
    lms, webui, share = home / "lmstudio-models", home / "text-generation-webui", home / "share"
    for folder in (lms, webui / "models", share):
        folder.mkdir(parents=True)
    config = app_config(
        home,
        _app("lms", "lmstudio", lms)
        + _app("webui", "textgen", webui)
        + _app("share", "flat", share),
    )
    single = add_model(
        config,
        "llama-q4",
        "llm",
        family="llama",
        fmt="gguf",
        hub={"repo_id": "TheBloke/Llama-2-7B-GGUF"},
        write=lambda f: modelfiles.llm_gguf(f / "llama-2-7b.Q4_K_M.gguf"),
    )
    sharded = add_model(
        config,
        "big-llama",
        "llm",
        family="llama",
        fmt="gguf",
        write=lambda f: modelfiles.make_shard_set(f, "big", 2, ext="gguf"),
    )
    lora = add_model(config, "style", "lora")
    LinkManager(config).sync_all()

    assert (
        lms / "TheBloke" / "Llama-2-7B-GGUF" / "llama-2-7b.Q4_K_M.gguf"
    ).resolve() == single.path().resolve()
    for shard in sharded.meta.files:  # LM Studio: shards side by side under their own names
        assert (lms / "llama" / "big-llama" / shard.name).resolve() == (
            sharded.folder / shard.name
        ).resolve()
    assert (webui / "models" / "llama-2-7b.Q4_K_M.gguf").is_symlink()
    assert sorted(os.listdir(webui / "models" / "big-llama")) == sorted(
        f.name for f in sharded.meta.files
    )
    assert (share / "lora" / "style.safetensors").resolve() == lora.path().resolve()
    assert (share / "llm" / "llama-2-7b.Q4_K_M.gguf").is_symlink()
    assert not list(lms.rglob("style.safetensors")) and not list(webui.rglob("style.safetensors"))


def test_unknown_kind_is_reported_and_links_nothing(home, index):
    target = home / "mystery"
    target.mkdir()
    config = app_config(home, _app("mystery", "photoshop", target))
    add_model(config, "style", "lora")
    report = LinkManager(config).sync_all()
    assert report["apps"][0]["state"] == "error"
    assert "unknown kind 'photoshop'" in report["apps"][0]["error"]
    assert os.listdir(target) == [] and LinkRecord.select().count() == 0


def test_a_models_folder_that_leads_into_the_library_is_refused(home, comfy, lconfig):
    loras = comfy / "models" / "loras"
    loras.rmdir()
    (lconfig.library_root / "lora").mkdir(parents=True)
    loras.symlink_to(lconfig.library_root / "lora")  # someone pointed loras at the library itself
    lora = add_model(lconfig, "style", "lora")
    report = LinkManager(lconfig).sync_all()
    assert report["created"] == 0
    assert any("leads into the library" in p["reason"] for p in report["problems"])
    assert sorted(os.listdir(lconfig.library_root / "lora" / "sd15")) == ["style"]
    assert not any(p.is_symlink() for p in lora.folder.iterdir())
    # and it is not an orphan link to clean up either: it reaches no model
    check = LinkManager(lconfig).check()
    assert [o["path"] for o in check["orphaned"]] == [str(loras)]
    assert LinkManager(lconfig).repair()["removed"] == 0 and loras.is_symlink()


def test_a_models_folder_moved_to_another_drive_is_linked_into_and_checked(home, comfy, lconfig):
    elsewhere = home / "big-disk" / "checkpoints"
    elsewhere.mkdir(parents=True)
    (comfy / "models" / "checkpoints").rmdir()
    (comfy / "models" / "checkpoints").symlink_to(elsewhere)
    ckpt = add_model(lconfig, "base", "checkpoint")
    LinkManager(lconfig).sync_all()
    assert (elsewhere / "base.safetensors").resolve() == ckpt.path().resolve()
    stray = elsewhere / "by-hand.safetensors"
    stray.symlink_to(ckpt.path())
    check = LinkManager(lconfig).check()
    assert check["ok"] == 1
    assert [o["path"] for o in check["orphaned"]] == [
        str(comfy / "models" / "checkpoints" / "by-hand.safetensors")
    ]


def test_group_folder_conflict_is_suffixed(lconfig, comfy):
    taken = comfy / "models" / "checkpoints" / "big"
    taken.mkdir()
    (taken / "notes.txt").write_text("the user's folder")
    model = add_model(
        lconfig, "big", "checkpoint", write=lambda f: modelfiles.make_shard_set(f, "model", 2)
    )
    report = LinkManager(lconfig).sync_model(model.id)
    [conflict] = report["conflicts"]
    assert conflict["occupied_by"] == "dir" and conflict["linked_as"].endswith(
        f"big-{model.meta.blake3[:8]}"
    )
    assert os.listdir(taken) == ["notes.txt"]
    assert len(os.listdir(conflict["linked_as"])) == 3


def test_two_models_with_one_file_name_both_get_linked(lconfig, comfy):
    one = add_model(lconfig, "same", "lora", family="sd15")
    two = add_model(  # same file name, other bytes: another model
        lconfig,
        "same",
        "lora",
        family="sdxl",
        write=lambda f: modelfiles.lora(f / "same.safetensors", base="sdxl"),
    )
    assert one.id != two.id
    report = LinkManager(lconfig).sync_all()
    names = sorted(os.listdir(comfy / "models" / "loras"))
    assert len(names) == 2 and "same.safetensors" in names
    assert report["conflicts"][0]["occupied_by"] == "symlink"
    targets = {(comfy / "models" / "loras" / n).resolve() for n in names}
    assert targets == {one.path().resolve(), two.path().resolve()}


def test_comfy_app_helper_options_reach_the_config(home, comfy, index):
    config = app_config(home, comfy_app(comfy, link="hardlink", on_conflict="skip", version="0.2"))
    app = config.apps[0]
    assert (app.link, app.on_conflict, app.version) == ("hardlink", "skip", "0.2")
