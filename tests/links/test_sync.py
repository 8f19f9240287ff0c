"""Linking into a real ComfyUI-shaped tree: placement, link kinds, multi-file models, conflicts."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from modeld.links import LinkManager
from modeld.links.registry import LinkRecord
from tests import modelfiles
from tests.links.conftest import app_config, comfy_app
from tests.links.library import add_model, add_pipeline


def test_lora_lands_in_loras_as_a_relative_symlink(lconfig, comfy):
    lora = add_model(
        lconfig,
        "detail-tweaker",
        "lora",
        write=lambda f: modelfiles.lora(f / "detail-tweaker.safetensors"),
    )
    manager = LinkManager(lconfig)
    report = manager.sync_model(lora.id)

    link = comfy / "models" / "loras" / "detail-tweaker.safetensors"
    assert link.is_symlink()
    text = os.readlink(link)
    assert not os.path.isabs(text), text  # same file system: relative
    assert link.resolve() == lora.path().resolve()
    assert link.read_bytes() == lora.path().read_bytes()
    assert report["created"] == 1
    row = LinkRecord.get(LinkRecord.path == str(link))
    assert (row.app, row.model_id, row.kind) == ("comfyui", lora.id, "symlink")
    assert row.target == str(lora.path())
    assert row.created_at > 0 and row.verified_at >= row.created_at
    assert manager.links_for_model(lora.id) == [
        {
            "app": "comfyui",
            "path": str(link),
            "target": str(lora.path()),
            "kind": "symlink",
            "status": "ok",
            "model_id": lora.id,
        }
    ]


def test_every_comfyui_type_goes_to_its_folder(lconfig, comfy):
    expected = {
        "checkpoint": "checkpoints",
        "lora": "loras",
        "vae": "vae",
        "controlnet": "controlnet",
        "embedding": "embeddings",
        "upscaler": "upscale_models",
        "text_encoder": "text_encoders",
        "clip_vision": "clip_vision",
        "diffusion_model": "diffusion_models",
        "hypernetwork": "hypernetworks",
    }
    models = {t: add_model(lconfig, f"m-{t}", t) for t in expected}
    llm = add_model(
        lconfig,
        "tiny-llm",
        "llm",
        family="llama",
        fmt="gguf",
        write=lambda f: modelfiles.llm_gguf(f / "tiny.Q4_K_M.gguf"),
    )
    LinkManager(lconfig).sync_all()
    for model_type, folder in expected.items():
        link = comfy / "models" / folder / f"m-{model_type}.safetensors"
        assert link.resolve() == models[model_type].path().resolve(), model_type
    # ComfyUI has no folder for LLMs: nothing is linked, nothing is created
    assert not list((comfy / "models").rglob("tiny.Q4_K_M.gguf"))
    assert LinkRecord.select().where(LinkRecord.model_id == llm.id).count() == 0


def test_old_folder_names_are_used_only_where_they_are_the_ones_that_exist(home, index):
    old = home / "OldComfy"
    for name in ("clip", "unet", "loras"):
        (old / "models" / name).mkdir(parents=True)
    both = home / "NewComfy"
    for name in ("clip", "text_encoders", "unet", "diffusion_models"):
        (both / "models" / name).mkdir(parents=True)
    config = app_config(home, comfy_app(old, "old") + comfy_app(both, "new"))
    te = add_model(config, "t5xxl", "text_encoder", family="flux")
    dm = add_model(config, "flux-dev", "diffusion_model", family="flux")
    LinkManager(config).sync_all()
    assert (old / "models" / "clip" / "t5xxl.safetensors").resolve() == te.path().resolve()
    assert (old / "models" / "unet" / "flux-dev.safetensors").resolve() == dm.path().resolve()
    assert not (old / "models" / "text_encoders").exists()
    assert (both / "models" / "text_encoders" / "t5xxl.safetensors").is_symlink()
    assert (both / "models" / "diffusion_models" / "flux-dev.safetensors").is_symlink()
    assert os.listdir(both / "models" / "clip") == []
    assert os.listdir(both / "models" / "unet") == []


def test_links_across_file_systems_are_absolute(home, index):
    # /dev/shm is a tmpfs, a different file system from the library under /tmp
    shm = Path(tempfile.mkdtemp(prefix="modeld-links-", dir="/dev/shm"))
    try:
        assert os.stat(shm).st_dev != os.stat(home).st_dev
        config = app_config(home, comfy_app(shm / "ComfyUI"))
        (shm / "ComfyUI" / "models" / "loras").mkdir(parents=True)
        lora = add_model(config, "style", "lora")
        LinkManager(config).sync_all()
        link = shm / "ComfyUI" / "models" / "loras" / "style.safetensors"
        assert os.readlink(link) == os.path.realpath(lora.path())
        assert link.read_bytes() == lora.path().read_bytes()
    finally:
        shutil.rmtree(shm)


def test_sharded_model_is_linked_whole_under_its_shard_names(lconfig, comfy):
    model = add_model(
        lconfig,
        "big-unet",
        "diffusion_model",
        family="flux",
        write=lambda f: modelfiles.make_shard_set(f, "diffusion_pytorch_model", 3),
    )
    LinkManager(lconfig).sync_model(model.id)
    group = comfy / "models" / "diffusion_models" / "big-unet"
    assert group.is_dir() and not group.is_symlink()
    names = sorted(os.listdir(group))
    assert names == sorted(f.name for f in model.meta.files)
    assert len([n for n in names if "-of-00003" in n]) == 3
    for name in names:
        assert (group / name).resolve() == (model.folder / name).resolve()


def test_a_preview_is_linked_beside_its_model_and_a_late_one_moves_nothing(lconfig, comfy):
    def write(folder: Path) -> None:
        modelfiles.lora(folder / "ink.safetensors")
        (folder / "ink.preview.png").write_bytes(b"\x89PNG\r\n\x1a\n")
        (folder / "notes.txt").write_text("the model's own folder, not for the app")

    model = add_model(lconfig, "ink", "lora", write=write)
    LinkManager(lconfig).sync_model(model.id)
    loras = comfy / "models" / "loras"
    assert sorted(os.listdir(loras)) == ["ink.preview.png", "ink.safetensors"]
    for name in ("ink.safetensors", "ink.preview.png"):
        assert (loras / name).resolve() == (model.folder / name).resolve()

    # a preview added later joins the model; the weights' link stays as it was
    plain = add_model(lconfig, "plain", "lora")
    manager = LinkManager(lconfig)
    manager.sync_model(plain.id)
    weights_link = loras / "plain.safetensors"
    before = os.readlink(weights_link)
    (plain.folder / "plain.preview.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    plain = add_model(lconfig, "plain", "lora")  # re-indexed with the preview
    report = manager.sync_model(plain.id)
    assert report["created"] == 1 and report["removed"] == 0
    assert os.readlink(weights_link) == before
    assert (loras / "plain.preview.png").resolve() == (plain.folder / "plain.preview.png").resolve()


def test_diffusers_pipeline_is_linked_as_one_folder(lconfig, comfy):
    model = add_pipeline(lconfig, "sdxl-base", family="sdxl")
    LinkManager(lconfig).sync_all()
    link = comfy / "models" / "diffusers" / "sdxl-base"
    assert link.is_symlink()
    assert link.resolve() == model.folder.resolve()
    assert (link / "model_index.json").is_file()
    assert (link / "unet").is_dir()
    assert LinkRecord.get(LinkRecord.path == str(link)).is_dir


def test_real_file_at_the_target_is_kept_and_the_model_linked_under_a_suffix(lconfig, comfy):
    mine = comfy / "models" / "loras" / "style.safetensors"
    mine.write_bytes(b"the user's own lora, not in the library")
    lora = add_model(lconfig, "style", "lora")
    report = LinkManager(lconfig).sync_model(lora.id)

    assert mine.read_bytes() == b"the user's own lora, not in the library"
    assert not mine.is_symlink()
    [conflict] = report["conflicts"]
    assert conflict["path"] == str(mine)
    assert conflict["occupied_by"] == "file"
    assert conflict["resolution"] == "suffixed"
    suffixed = Path(conflict["linked_as"])
    assert suffixed.parent == mine.parent and suffixed.name.startswith("style-")
    assert suffixed.name.endswith(".safetensors")
    assert suffixed.resolve() == lora.path().resolve()
    # a second sync neither moves the link nor reports the conflict again
    again = LinkManager(lconfig).sync_all()
    assert again["conflicts"] == [] and again["created"] == 0 and again["unchanged"] == 1


def test_on_conflict_skip_leaves_the_model_unlinked(home, comfy, index):
    config = app_config(home, comfy_app(comfy, on_conflict="skip"))
    foreign = comfy / "models" / "loras" / "style.safetensors"
    elsewhere = home / "elsewhere.safetensors"
    elsewhere.write_bytes(b"another tool's file")
    foreign.symlink_to(elsewhere)  # a link modeld does not own
    lora = add_model(config, "style", "lora")
    report = LinkManager(config).sync_model(lora.id)
    assert report["conflicts"][0]["resolution"] == "skipped"
    assert report["conflicts"][0]["occupied_by"] == "symlink"
    assert os.readlink(foreign) == str(elsewhere)
    assert os.listdir(foreign.parent) == ["style.safetensors"]
    assert LinkRecord.select().count() == 0


def test_an_existing_identical_link_is_adopted_not_duplicated(lconfig, comfy):
    lora = add_model(lconfig, "style", "lora")
    made_by_hand = comfy / "models" / "loras" / "style.safetensors"
    made_by_hand.symlink_to(lora.path())
    report = LinkManager(lconfig).sync_model(lora.id)
    assert report["adopted"] == 1 and report["created"] == 0
    assert os.listdir(made_by_hand.parent) == ["style.safetensors"]
    assert LinkRecord.get(LinkRecord.path == str(made_by_hand)).model_id == lora.id


def test_sync_model_touches_only_that_model(lconfig, comfy):
    first = add_model(lconfig, "first", "lora")
    second = add_model(lconfig, "second", "lora")
    LinkManager(lconfig).sync_model(second.id)
    loras = comfy / "models" / "loras"
    assert os.listdir(loras) == ["second.safetensors"]
    LinkManager(lconfig).sync_all()
    assert sorted(os.listdir(loras)) == ["first.safetensors", "second.safetensors"]
    assert first.id != second.id


def test_a_new_app_gets_the_whole_library_after_a_restart(home, comfy, lconfig):
    models = [add_model(lconfig, f"lora-{i}", "lora") for i in range(5)]
    LinkManager(lconfig).sync_all()
    second = home / "SecondComfy"
    (second / "models").mkdir(parents=True)
    restarted = app_config(home, comfy_app(comfy) + comfy_app(second, "second"))
    report = LinkManager(restarted).sync_all()
    assert report["created"] == 5 and report["unchanged"] == 5
    for model in models:
        assert (second / "models" / "loras" / f"{model.meta.name}.safetensors").is_symlink()


def test_removed_app_loses_its_links_on_the_next_full_sync(home, comfy, lconfig):
    lora = add_model(lconfig, "style", "lora")
    LinkManager(lconfig).sync_all()
    link = comfy / "models" / "loras" / "style.safetensors"
    assert link.is_symlink()
    without = app_config(home, "")
    report = LinkManager(without).sync_all()
    assert report["removed"] == 1 and not os.path.lexists(link)
    assert lora.path().is_file()
    assert LinkRecord.select().count() == 0


def test_changed_type_moves_the_link(lconfig, comfy):
    from modeld.library.index import upsert_model

    model = add_model(lconfig, "thing", "lora")
    LinkManager(lconfig).sync_all()
    model.meta.model_type = "checkpoint"
    upsert_model(lconfig.library_root, model.folder, model.meta)
    report = LinkManager(lconfig).sync_model(model.id)
    assert report["removed"] == 1 and report["created"] == 1
    assert not os.path.lexists(comfy / "models" / "loras" / "thing.safetensors")
    assert (comfy / "models" / "checkpoints" / "thing.safetensors").is_symlink()


def test_remove_model_links_removes_links_and_the_folder_modeld_made(lconfig, comfy):
    model = add_model(
        lconfig, "big", "checkpoint", write=lambda f: modelfiles.make_shard_set(f, "model", 2)
    )
    other = add_model(lconfig, "other", "checkpoint")
    manager = LinkManager(lconfig)
    manager.sync_all()
    group = comfy / "models" / "checkpoints" / "big"
    assert len(os.listdir(group)) == 3  # two shards and the index
    assert manager.remove_model_links(model.id) == 3
    assert not group.exists()
    assert (comfy / "models" / "checkpoints" / "other.safetensors").is_symlink()
    assert all(p.is_file() for p in model.folder.iterdir())  # the library is untouched
    assert LinkRecord.select().where(LinkRecord.model_id == model.id).count() == 0
    assert LinkRecord.select().where(LinkRecord.model_id == other.id).count() == 1


def test_discovered_folder_takes_its_type_and_config_maps_a_family(home, comfy, index, caplog):
    caplog.set_level(logging.INFO)
    (comfy / "models" / "ipadapter").mkdir()
    (comfy / "models" / "LLM").mkdir()
    (comfy / "models" / "sams").mkdir()
    config = app_config(
        home,
        comfy_app(comfy)
        + '[app.folders]\n"ip-adapter-plus" = "ipadapter"\n"lora/flux" = "loras/flux"\n',
    )
    llm = add_model(
        config,
        "qwen",
        "llm",
        family="qwen",
        fmt="gguf",
        write=lambda f: modelfiles.llm_gguf(f / "qwen.Q4_K_M.gguf", arch="qwen2"),
    )
    adapter = add_model(config, "ipa", "unknown", family="ip-adapter-plus")
    flux_lora = add_model(config, "fluxy", "lora", family="flux")
    sd_lora = add_model(config, "sdish", "lora", family="sd15")
    report = LinkManager(config).sync_all()
    assert {"ipadapter", "LLM", "sams", "loras"} <= set(report["apps"][0]["folders"])
    assert "found folders LLM, sams under" in caplog.text
    models = comfy / "models"
    assert (models / "LLM" / "qwen.Q4_K_M.gguf").resolve() == llm.path().resolve()
    assert (models / "ipadapter" / "ipa.safetensors").resolve() == adapter.path().resolve()
    assert (models / "loras" / "flux" / "fluxy.safetensors").resolve() == flux_lora.path().resolve()
    assert (models / "loras" / "sdish.safetensors").resolve() == sd_lora.path().resolve()


def test_version_override_keeps_a_model_out_and_a_change_removes_its_link(lconfig, comfy, caplog):
    model = add_model(lconfig, "new-only", "lora")
    overrides = model.folder / "overrides.json"
    overrides.write_text('{"version_ranges": {"ComfyUI": ">=0.4"}}')  # the tree is 0.3.40
    report = LinkManager(lconfig).sync_all()
    assert report["created"] == 0
    assert report["excluded"][0]["model_id"] == model.id
    overrides.write_text('{"version_ranges": {"comfyui": ">=0.3,<0.4"}}')
    assert LinkManager(lconfig).sync_all()["created"] == 1
    overrides.write_text('{"version_ranges": {"comfyui": "0.3.*.bad"}}')
    report = LinkManager(lconfig).sync_all()
    assert report["removed"] == 1
    assert not os.path.lexists(lconfig.apps[0].path / "models" / "loras" / "new-only.safetensors")
    assert str(overrides) in caplog.text and "invalid version range" in caplog.text


@pytest.mark.parametrize("where", ["loras", "checkpoints"])
def test_hardlink_mode_links_files_and_rebuilds_pipeline_folders(home, comfy, index, where):
    config = app_config(home, comfy_app(comfy, link="hardlink"))
    lora = add_model(config, "style", "lora" if where == "loras" else "checkpoint")
    pipe = add_pipeline(config, "sd15-pipe")
    report = LinkManager(config).sync_all()
    link = comfy / "models" / where / "style.safetensors"
    assert not link.is_symlink() and link.is_file()
    assert os.stat(link).st_ino == os.stat(lora.path()).st_ino
    folder = comfy / "models" / "diffusers" / "sd15-pipe"
    assert folder.is_dir() and not folder.is_symlink()
    index_link = folder / "model_index.json"
    assert os.stat(index_link).st_ino == os.stat(pipe.folder / "model_index.json").st_ino
    assert (folder / "unet").is_dir()
    assert report["apps"][0]["link"] == "hardlink"


def test_a1111_tree_gets_its_folders_and_only_its_model_folders_are_searched(home, index):
    webui = home / "stable-diffusion-webui"
    for folder in ("models/Stable-diffusion", "models/Lora", "models/VAE", "embeddings"):
        (webui / folder).mkdir(parents=True)
    config = app_config(home, f'\n[[app]]\nkind = "a1111"\npath = "{webui}"\n')
    lora = add_model(config, "ink", "lora", write=lambda f: modelfiles.lora(f / "ink.safetensors"))
    embedding = add_model(
        config, "bad-hands", "embedding", write=lambda f: modelfiles.embedding(f / "bad-hands.pt")
    )
    manager = LinkManager(config)
    manager.sync_all()
    assert (webui / "models" / "Lora" / "ink.safetensors").resolve() == lora.path().resolve()
    assert (webui / "embeddings" / "bad-hands.pt").resolve() == embedding.path().resolve()

    # an unregistered link into the library in embeddings/ is an orphan; one in the
    # venv is not looked at (the install root is not a model folder)
    stray = webui / "embeddings" / "copy.pt"
    stray.symlink_to(embedding.path())
    venv = webui / "venv" / "lib" / "site"
    venv.mkdir(parents=True)
    (venv / "elsewhere.pt").symlink_to(embedding.path())
    result = manager.check()
    assert [o["path"] for o in result["orphaned"]] == [str(stray)]
    assert result["ok"] == 2
