"""plan_units on real folders: shards, diffusers, companions, symlinks, hostile names."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from modeld.ingest.planner import plan_units
from modeld.ingest.units import ImportUnit
from tests import modelfiles


def plan(*paths: Path, boundary: Path | None = None):
    return plan_units(list(paths), boundary=boundary)


def files_of(unit: ImportUnit) -> dict[str, str]:
    return {f.name: f.role for f in unit.files}


def test_single_model_takes_its_same_stem_companions(tmp_path):
    modelfiles.lora(tmp_path / "detail.safetensors")
    for name in (
        "detail.preview.png",
        "detail.civitai.info",
        "detail.yaml",
        "detail.json",
        "detail.safetensors.json",
    ):
        (tmp_path / name).write_text("x")
    modelfiles.lora(tmp_path / "other.safetensors")
    units, problems = plan(tmp_path, boundary=tmp_path)
    assert problems == []
    by_name = {u.name: u for u in units}
    assert files_of(by_name["detail"]) == {
        "detail.safetensors": "weights",
        "detail.preview.png": "companion",
        "detail.civitai.info": "companion",
        "detail.yaml": "companion",
        "detail.json": "companion",
        "detail.safetensors.json": "companion",
    }
    assert files_of(by_name["other"]) == {"other.safetensors": "weights"}
    assert all(u.kind == "file" for u in units)


def test_a_loose_companion_in_the_drop_folder_is_a_unit_of_its_own(tmp_path):
    # perhaps a late preview: the importer looks for a library model named like it
    modelfiles.lora(tmp_path / "a.safetensors")
    (tmp_path / "notes.txt").write_text("my notes")
    (tmp_path / "LICENSE").write_text("MIT")
    units, problems = plan(tmp_path, boundary=tmp_path)
    assert [(u.kind, u.name) for u in units] == [("file", "a"), ("companion", "notes.txt")]
    assert files_of(units[1]) == {"notes.txt": "companion"}
    # a name with no extension names no model: nothing to look for
    [problem] = problems
    assert problem.path == tmp_path / "LICENSE" and not problem.retry
    assert problem.reason == "not a model file (LICENSE), and no model beside it"


def test_hugging_face_folder_is_one_sharded_unit_named_after_the_folder(tmp_path):
    folder = tmp_path / "Meta-Llama-3-8B"
    modelfiles.make_shard_set(folder, n=3)
    for name in ("config.json", "generation_config.json", "tokenizer.json", "README.md", "LICENSE"):
        (folder / name).write_text("{}")
    (folder / ".gitattributes").write_text("*.safetensors filter=lfs")
    units, problems = plan(tmp_path, boundary=tmp_path)
    assert problems == []
    [unit] = units
    assert unit.kind == "sharded" and unit.name == "Meta-Llama-3-8B"
    roles = files_of(unit)
    assert sorted(n for n, r in roles.items() if r == "weights") == [
        f"model-0000{k}-of-00003.safetensors" for k in (1, 2, 3)
    ]
    assert {n for n, r in roles.items() if r == "companion"} == {
        "model.safetensors.index.json",
        "config.json",
        "generation_config.json",
        "tokenizer.json",
        "README.md",
        "LICENSE",
    }


def test_a_missing_shard_makes_the_set_wait(tmp_path):
    modelfiles.make_shard_set(tmp_path, n=5, missing=[2, 4])
    units, problems = plan(tmp_path, boundary=tmp_path)
    assert units == []
    [problem] = problems
    assert problem.retry
    assert "3 of 5 present, missing 2, 4" in problem.reason
    assert "model-00002-of-00005.safetensors" in problem.reason


def test_a_lone_shard_given_by_path_plans_its_whole_set(tmp_path):
    paths = modelfiles.make_shard_set(tmp_path / "m", n=3)
    units, problems = plan(paths[1], boundary=tmp_path)
    assert problems == []
    [unit] = units
    assert len([f for f in unit.files if f.role == "weights"]) == 3


def test_shards_disagreeing_on_the_total_are_problems(tmp_path):
    modelfiles.make_shard_set(tmp_path, n=2, index=False)
    modelfiles.lora(tmp_path / "model-00001-of-00003.safetensors")
    units, problems = plan(tmp_path, boundary=tmp_path)
    assert units == []
    assert len(problems) == 3
    assert all("disagree on the set size (-of-2 and -of-3)" in p.reason for p in problems)


def test_an_index_naming_absent_files_waits(tmp_path):
    modelfiles.make_shard_set(tmp_path, n=2)
    index = tmp_path / "model.safetensors.index.json"
    document = json.loads(index.read_text())
    document["weight_map"]["extra.weight"] = "model-extra.safetensors"
    index.write_text(json.dumps(document))
    units, problems = plan(tmp_path, boundary=tmp_path)
    assert units == [] and problems[0].retry
    assert "model-extra.safetensors" in problems[0].reason


def test_a_set_of_one_is_a_plain_file_and_gguf_splits_form_a_set(tmp_path):
    modelfiles.lora(tmp_path / "solo-00001-of-00001.safetensors")
    modelfiles.make_shard_set(tmp_path, base="qwen-q4", n=2, ext="gguf")
    units, problems = plan(tmp_path, boundary=tmp_path)
    assert problems == []
    kinds = {u.name: u.kind for u in units}
    assert kinds == {"solo": "file", "qwen-q4": "sharded"}


def test_diffusers_folder_is_one_unit_with_relative_names(tmp_path):
    folder = modelfiles.make_diffusers_folder(tmp_path / "sdxl-base", "sdxl")
    (folder / ".cache").mkdir()
    (folder / ".cache" / "junk.safetensors").write_text("x")
    units, problems = plan(tmp_path, boundary=tmp_path)
    assert problems == []
    [unit] = units
    assert unit.kind == "diffusers" and unit.name == "sdxl-base"
    roles = files_of(unit)
    assert roles["model_index.json"] == "companion"
    assert roles["unet/diffusion_pytorch_model.safetensors"] == "weights"
    assert roles["text_encoder_2/model.safetensors"] == "weights"
    assert roles["tokenizer/merges.txt"] == "companion"
    assert not any(name.startswith(".cache") for name in roles)


def test_files_inside_a_diffusers_folder_plan_the_folder_once(tmp_path):
    folder = modelfiles.make_diffusers_folder(tmp_path / "sd15", "sd15")
    units, problems = plan(
        folder / "unet" / "diffusion_pytorch_model.safetensors",
        folder / "vae" / "config.json",
        boundary=tmp_path,
    )
    assert problems == []
    assert [u.kind for u in units] == ["diffusers"] and units[0].name == "sd15"


def test_diffusers_folder_with_a_symlink_outside_is_refused(tmp_path):
    drop, outside = tmp_path / "drop", tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.safetensors"
    modelfiles.lora(secret)
    folder = modelfiles.make_diffusers_folder(drop / "sd15", "sd15")
    (folder / "unet" / "extra.safetensors").symlink_to(secret)
    units, problems = plan(drop, boundary=drop)
    assert units == []
    [problem] = problems
    assert problem.path == folder
    assert "unet/extra.safetensors" in problem.reason and "outside" in problem.reason


def test_file_symlinks_inside_are_used_and_outside_are_problems(tmp_path):
    drop, outside = tmp_path / "drop", tmp_path / "outside"
    drop.mkdir()
    outside.mkdir()
    modelfiles.lora(outside / "elsewhere.safetensors")
    modelfiles.lora(drop / "real.safetensors")
    (drop / "escape.safetensors").symlink_to(outside / "elsewhere.safetensors")
    (drop / "stores").mkdir()
    (drop / "stores" / "alias.safetensors").symlink_to(drop / "real.safetensors")
    (drop / "dangling.safetensors").symlink_to(drop / "nothing-here")
    (drop / "loop.safetensors").symlink_to(drop / "loop.safetensors")
    units, problems = plan(drop, boundary=drop)
    assert sorted(u.name for u in units) == ["alias", "real"]
    reasons = {p.path.name: p.reason for p in problems}
    assert (
        "outside" in reasons["escape.safetensors"]
        and "not followed" in reasons["escape.safetensors"]
    )
    assert "dangling symlink" in reasons["dangling.safetensors"]
    assert "dangling symlink" in reasons["loop.safetensors"]


def test_directory_symlinks_are_never_followed(tmp_path):
    drop, outside = tmp_path / "drop", tmp_path / "outside"
    drop.mkdir()
    outside.mkdir()
    modelfiles.lora(outside / "x.safetensors")
    (drop / "out").symlink_to(outside, target_is_directory=True)
    (drop / "self").symlink_to(drop, target_is_directory=True)  # a loop
    units, problems = plan(drop, boundary=drop)
    assert units == []
    assert [p.path.name for p in problems] == ["out"]
    assert "outside" in problems[0].reason


def test_without_a_boundary_the_imported_folder_is_the_boundary(tmp_path):
    folder, outside = tmp_path / "folder", tmp_path / "outside"
    folder.mkdir()
    outside.mkdir()
    modelfiles.lora(outside / "x.safetensors")
    (folder / "link.safetensors").symlink_to(outside / "x.safetensors")
    units, problems = plan(folder)
    assert units == [] and "outside" in problems[0].reason


def test_any_name_the_file_system_allows_plans_like_any_other(tmp_path):
    # the contract: a file is never refused because of its name
    modelfiles.lora(tmp_path / "good.safetensors")
    modelfiles.lora(tmp_path / "evil\nname.safetensors")
    bad_bytes = os.fsdecode(b"caf\xe9-latin1.safetensors")
    modelfiles.lora(tmp_path / bad_bytes)
    units, problems = plan(tmp_path, boundary=tmp_path)
    assert problems == []
    assert sorted(u.name for u in units) == sorted(["good", "evil\nname", bad_bytes[:-12]])
    assert {u.source for u in units} == {
        tmp_path / "good.safetensors",
        tmp_path / "evil\nname.safetensors",
        tmp_path / bad_bytes,
    }


def test_a_folder_named_in_bytes_that_are_not_utf8_is_walked(tmp_path):
    folder = tmp_path / os.fsdecode(b"dossier-\xe9t\xe9")
    folder.mkdir()
    modelfiles.lora(folder / "style.safetensors")
    units, problems = plan(tmp_path, boundary=tmp_path)
    assert problems == []
    assert [u.source for u in units] == [folder / "style.safetensors"]


def test_fifos_and_devices_are_problems_never_opened(tmp_path):
    os.mkfifo(tmp_path / "pipe.safetensors")
    units, problems = plan(tmp_path, boundary=tmp_path)
    assert units == []
    assert "not a regular file (a FIFO)" in problems[0].reason


def test_hidden_files_are_skipped(tmp_path):
    modelfiles.lora(tmp_path / ".model.safetensors.part")
    (tmp_path / ".DS_Store").write_bytes(b"\0\0")
    assert plan(tmp_path, boundary=tmp_path) == ([], [])


def test_a_companion_given_alone(tmp_path):
    modelfiles.lora(tmp_path / "style.safetensors")
    (tmp_path / "style.preview.png").write_bytes(b"\x89PNG")
    (tmp_path / "orphan.preview.png").write_bytes(b"\x89PNG")
    units, problems = plan(
        tmp_path / "style.preview.png", tmp_path / "orphan.preview.png", boundary=tmp_path
    )
    # the orphan may belong to a library model: a unit the importer attaches or refuses
    assert [(u.kind, u.name) for u in units] == [("companion", "orphan.preview.png")]
    [problem] = problems
    assert problem.path.name == "style.preview.png" and problem.retry
    assert "moves with that model" in problem.reason


def test_a_model_given_alone_takes_its_companions_not_its_neighbours(tmp_path):
    modelfiles.lora(tmp_path / "a.safetensors")
    (tmp_path / "a.png").write_bytes(b"\x89PNG")
    modelfiles.lora(tmp_path / "b.safetensors")
    (tmp_path / "a.png").write_bytes(b"\x89PNG")
    units, problems = plan(tmp_path / "a.safetensors", tmp_path / "a.png", boundary=tmp_path)
    assert problems == []
    [unit] = units
    assert files_of(unit) == {"a.safetensors": "weights", "a.png": "companion"}


def test_a_file_named_on_the_command_line_leaves_its_folders_other_files(tmp_path):
    # ~/Downloads with one model in it: a screenshot, notes and another model's
    # preview are the user's own files, not the model's companions
    downloads = tmp_path / "Downloads"
    downloads.mkdir()
    modelfiles.lora(downloads / "style.safetensors")
    (downloads / "style.preview.png").write_bytes(b"\x89PNG")
    for stray in ("screenshot.png", "notes.md", "config.json", "other.preview.png"):
        (downloads / stray).write_text("mine")
    units, problems = plan(downloads / "style.safetensors")
    assert problems == []
    [unit] = units
    assert files_of(unit) == {"style.safetensors": "weights", "style.preview.png": "companion"}

    units, problems = plan(downloads / "other.preview.png")
    assert problems == []
    assert [(u.kind, u.name) for u in units] == [("companion", "other.preview.png")]


def test_a_folder_named_on_the_command_line_is_the_models_own(tmp_path):
    folder = tmp_path / "Llama-3-8B"
    folder.mkdir()
    modelfiles.llm_safetensors(folder / "model.safetensors")
    (folder / "config.json").write_text("{}")
    (folder / "tokenizer.json").write_text("{}")
    units, problems = plan(folder)
    assert problems == []
    [unit] = units
    assert files_of(unit) == {
        "model.safetensors": "weights",
        "config.json": "companion",
        "tokenizer.json": "companion",
    }


def test_primary_is_the_largest_weights_file(tmp_path):
    modelfiles.write_safetensors(tmp_path / "m-00001-of-00002.safetensors", {"a": ("F32", (4,))})
    modelfiles.write_safetensors(tmp_path / "m-00002-of-00002.safetensors", {"b": ("F32", (400,))})
    [unit], _ = plan(tmp_path, boundary=tmp_path)
    assert unit.primary.name == "m-00002-of-00002.safetensors"
    assert unit.source == tmp_path / "m-00002-of-00002.safetensors"


def test_a_path_that_vanished_is_a_problem(tmp_path):
    units, problems = plan(tmp_path / "gone.safetensors", boundary=tmp_path)
    assert units == [] and "no longer exists" in problems[0].reason


@pytest.mark.parametrize("depth", [1, 2])
def test_models_in_nested_folders_are_found(tmp_path, depth):
    folder = tmp_path.joinpath(*[f"level{i}" for i in range(depth)])
    modelfiles.lora(folder / "deep.safetensors")
    units, problems = plan(tmp_path, boundary=tmp_path)
    assert problems == [] and [u.name for u in units] == ["deep"]
