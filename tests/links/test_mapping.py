"""Pure parts: path prefixes, kinds' folder tables, [app.folders], overrides, link method choice."""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path

import pytest
from packaging.version import Version

from modeld.links.canary import LinkSupport, choose_method, probe
from modeld.links.errors import FolderError, LinkUnsupported
from modeld.links.kinds import KINDS, get_kind
from modeld.links.kinds.base import Placement
from modeld.links.mapping import (
    clean_folder,
    folder_for,
    unnamed_folders,
    validated_folders,
)
from modeld.links.model import LibraryModel, ModelFile, hub_repo_of
from modeld.links.overrides import decide, parse_overrides
from modeld.links.paths import link_text, rebase, relative_within, resolve_text
from modeld.vocab.paths import is_within
from tests.links.library import COMFY_FOLDERS


def model(model_type="lora", family="sd15", fmt="safetensors", files=("x.safetensors",), **kw):
    return LibraryModel(
        model_id="id1",
        name="X",
        model_type=model_type,
        family=family,
        format=fmt,
        rel_path=f"{model_type}/{family}/x",
        blake3="ab" * 32,
        files=tuple(ModelFile(f, 1, f"{i:064x}") for i, f in enumerate(files)),
        **kw,
    )


# -- paths -------------------------------------------------------------------------


def test_prefixes_match_whole_components_only():
    assert is_within("/media/usb/Models/a", "/media/usb")
    assert is_within("/media/usb", "/media/usb/")
    assert not is_within("/media/usb2/Models/a", "/media/usb")
    assert not is_within("/media/usb_backup", "/media/usb")
    assert relative_within("/media/usb/a/b", "/media/usb") == "a/b"
    assert relative_within("/media/usb2/a", "/media/usb") is None
    assert rebase("/media/usb/a/b", "/media/usb", "/mnt/disk") == "/mnt/disk/a/b"
    assert rebase("/media/usb2/a/b", "/media/usb", "/mnt/disk") is None
    assert is_within("/anything", "/")


def test_link_text_and_its_resolution_agree():
    target = "/data/Models/lora/sd15/x/x.safetensors"
    folder = "/home/u/ComfyUI/models/loras"
    text = link_text(target, folder, relative=True)
    assert text == "../../../../../data/Models/lora/sd15/x/x.safetensors"
    assert resolve_text(folder, text) == target
    assert link_text(target, folder, relative=False) == target
    assert resolve_text(folder, target) == target


# -- kinds -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model_type", "available", "expected"),
    [
        ("checkpoint", COMFY_FOLDERS, "checkpoints"),
        ("lora", set(), "loras"),
        ("upscaler", COMFY_FOLDERS, "upscale_models"),
        ("embedding", COMFY_FOLDERS, "embeddings"),
        ("hypernetwork", COMFY_FOLDERS, "hypernetworks"),
        ("text_encoder", COMFY_FOLDERS, "text_encoders"),
        ("text_encoder", {"clip"}, "clip"),
        ("text_encoder", {"clip", "text_encoders"}, "text_encoders"),
        ("text_encoder", set(), "text_encoders"),
        ("diffusion_model", {"unet"}, "unet"),
        ("diffusion_model", {"unet", "diffusion_models"}, "diffusion_models"),
        ("clip_vision", COMFY_FOLDERS, "clip_vision"),
        ("llm", COMFY_FOLDERS, None),
        ("llm", COMFY_FOLDERS | {"LLM"}, "LLM"),
        ("unknown", COMFY_FOLDERS | {"unknown"}, None),
    ],
)
def test_comfyui_table(model_type, available, expected):
    assert KINDS["comfyui"].default_folder(model(model_type), available) == expected


def test_comfyui_links_any_pipeline_folder_as_diffusers():
    pipe = model("checkpoint", fmt="diffusers", files=("model_index.json", "unet/w.safetensors"))
    kind = KINDS["comfyui"]
    assert kind.default_folder(pipe, COMFY_FOLDERS) == "diffusers"
    assert kind.placements(pipe, "diffusers") == [Placement("", "diffusers", "x", is_dir=True)]
    nested = model("diffusers", fmt="diffusers", files=("pipe/model_index.json", "pipe/unet/w.bin"))
    assert kind.placements(nested, "diffusers")[0].source == "pipe"


def test_standard_placements_group_multi_file_models():
    shards = model(files=("m-00001-of-00002.safetensors", "m-00002-of-00002.safetensors"))
    placements = KINDS["comfyui"].placements(shards, "checkpoints")
    assert [(p.entry, p.inner) for p in placements] == [
        ("x", "m-00001-of-00002.safetensors"),
        ("x", "m-00002-of-00002.safetensors"),
    ]


def test_one_weights_file_links_as_itself_with_its_own_sidecars_beside_it():
    files = ("x.safetensors", "x.preview.png", "x.civitai.info", "README.md", "config.json")
    placements = KINDS["comfyui"].placements(model(files=files), "loras")
    assert placements == [
        Placement("x.safetensors", "loras", "x.safetensors"),
        Placement("x.preview.png", "loras", "x.preview.png"),
        Placement("x.civitai.info", "loras", "x.civitai.info"),
    ]
    # the weights' link is the same with or without the preview
    alone = KINDS["comfyui"].placements(model(files=("x.safetensors",)), "loras")
    assert alone == placements[:1]


def test_a_generically_named_file_links_in_a_folder_named_after_the_model():
    files = ("model.safetensors", "config.json")
    placements = KINDS["comfyui"].placements(model("checkpoint", files=files), "checkpoints")
    assert [(p.entry, p.inner) for p in placements] == [
        ("x", "model.safetensors"),
        ("x", "config.json"),
    ]


A1111_FOLDERS = {"models/Stable-diffusion", "models/Lora", "models/VAE", "embeddings"}


@pytest.mark.parametrize(
    ("model_type", "available", "expected"),
    [
        ("checkpoint", A1111_FOLDERS, "models/Stable-diffusion"),
        ("lora", A1111_FOLDERS, "models/Lora"),
        ("vae", A1111_FOLDERS, "models/VAE"),
        ("controlnet", A1111_FOLDERS, "models/ControlNet"),
        ("embedding", A1111_FOLDERS, "embeddings"),
        ("upscaler", A1111_FOLDERS, "models/ESRGAN"),
        ("hypernetwork", A1111_FOLDERS, "models/hypernetworks"),
        # a bare Flux transformer or a T5 is for Forge only, told apart by its folder
        ("diffusion_model", A1111_FOLDERS, None),
        ("text_encoder", A1111_FOLDERS, None),
        ("diffusion_model", A1111_FOLDERS | {"models/text_encoder"}, "models/Stable-diffusion"),
        ("text_encoder", A1111_FOLDERS | {"models/text_encoder"}, "models/text_encoder"),
        ("clip_vision", A1111_FOLDERS, None),
        ("llm", A1111_FOLDERS | {"models/LLM"}, "models/LLM"),  # discovered, named like the type
    ],
)
def test_a1111_table(model_type, available, expected):
    kind = get_kind("forge")  # Forge, reForge and AUTOMATIC1111 share the layout
    assert kind is KINDS["a1111"]
    assert kind.default_folder(model(model_type), available) == expected


def test_a1111_takes_no_pipeline_folders_and_links_from_the_install_root():
    kind = KINDS["a1111"]
    pipe = model("checkpoint", fmt="diffusers", files=("model_index.json", "unet/w.safetensors"))
    assert kind.default_folder(pipe, A1111_FOLDERS) is None
    assert kind.models_dir(Path("/opt/webui")) == Path("/opt/webui")
    assert kind.link_roots == ("models", "embeddings")


def test_lmstudio_uses_publisher_and_model_and_takes_only_gguf():
    kind = get_kind("LMStudio")
    gguf = model(
        "llm", "llama", "gguf", files=("a.Q4_K_M.gguf",), hub_repo="TheBloke/Llama-2-7B-GGUF"
    )
    assert kind.default_folder(gguf, ()) == "TheBloke/Llama-2-7B-GGUF"
    assert kind.placements(gguf, "TheBloke/Llama-2-7B-GGUF") == [
        Placement("a.Q4_K_M.gguf", "TheBloke/Llama-2-7B-GGUF", "a.Q4_K_M.gguf")
    ]
    assert kind.default_folder(model("llm", "llama", "gguf"), ()) == "llama/x"
    assert kind.default_folder(model("llm", "unknown", "gguf"), ()) == "modeld/x"
    assert kind.default_folder(model("llm", "llama", "safetensors"), ()) is None


def test_textgen_and_flat_kinds():
    textgen, flat = KINDS["textgen"], KINDS["flat"]
    assert textgen.models_dir(Path("/opt/tg")) == Path("/opt/tg/models")
    assert textgen.default_folder(model("llm"), ()) == ""
    assert textgen.default_folder(model("lora"), ()) is None
    assert flat.default_folder(model("vae"), ()) == "vae"
    assert flat.default_folder(model("unknown"), ()) is None
    assert get_kind("nope") is None


def test_hub_repo_is_read_only_when_it_looks_like_one():
    assert hub_repo_of('{"repo_id": "org/name"}') == "org/name"
    assert hub_repo_of('{"repo_id": "not-a-repo"}') is None
    assert (
        hub_repo_of("[1]") is None and hub_repo_of("{broken") is None and hub_repo_of(None) is None
    )


# -- [app.folders] ------------------------------------------------------------------


def test_config_folders_most_specific_first_and_family_only_for_unmapped_models(caplog):
    comfy = KINDS["comfyui"]
    configured = validated_folders(
        "comfyui",
        {
            "lora/flux": "loras/flux",
            "LLM": "LLM",
            "flux": "xlabs",
            "ipadapter": "ipadapter",
            "vae": "",
            "bad": "../outside",
            "worse": "/etc",
        },
    )
    assert "bad" not in configured and "worse" not in configured
    assert "folders.bad ignored" in caplog.text and "folders.worse ignored" in caplog.text
    assert folder_for(comfy, model("lora", "flux"), configured, COMFY_FOLDERS) == "loras/flux"
    assert folder_for(comfy, model("lora", "sdxl"), configured, COMFY_FOLDERS) == "loras"
    assert folder_for(comfy, model("llm", "qwen"), configured, COMFY_FOLDERS) == "LLM"
    # a family key never pulls a model out of the folder its type has
    assert (
        folder_for(comfy, model("checkpoint", "flux"), configured, COMFY_FOLDERS) == "checkpoints"
    )
    assert (
        folder_for(comfy, model("unknown", "ipadapter"), configured, COMFY_FOLDERS) == "ipadapter"
    )
    assert folder_for(comfy, model("vae"), configured, COMFY_FOLDERS) is None  # "" = not here
    assert unnamed_folders(comfy, COMFY_FOLDERS | {"sams", "ipadapter", "LLM"}, configured) == [
        "sams"
    ]


def test_clean_folder():
    assert clean_folder(" loras/./flux/ ") == "loras/flux"
    assert clean_folder("") == ""
    for bad in ("..", "a/../../b", "/abs", "~/x"):
        with pytest.raises(FolderError):
            clean_folder(bad)


# -- overrides ----------------------------------------------------------------------


def _decide(text: str, version: str | None = "0.3.40", app="comfyui", kind="comfyui"):
    overrides = parse_overrides(Path("/lib/m/overrides.json"), text)
    return decide(overrides, app, kind, Version(version) if version else None)


def test_overrides_ranges():
    assert _decide('{"version_ranges": {"comfyui": ">=0.3,<0.4"}}').allowed
    assert not _decide('{"version_ranges": {"comfyui": ">=0.4"}}').allowed
    assert _decide('{"version_ranges": {"comfyui": "*"}}').allowed
    assert _decide('{"version_ranges": {"comfyui": ""}}').allowed
    assert _decide('{"version_ranges": {"other-app": ">=9"}}').allowed
    assert _decide("{}").allowed and _decide("").allowed
    # the app's own name first, then its kind, case-insensitively
    assert not _decide('{"version_ranges": {"ComfyUI": "<0.3"}}', app="studio").allowed
    assert _decide('{"version_ranges": {"studio": "*", "comfyui": "<0.3"}}', app="studio").allowed
    # pre-releases count as versions of the range
    assert _decide('{"version_ranges": {"comfyui": ">=0.3"}}', version="0.4.0rc1").allowed
    # an unknown app version cannot be checked: linked, and the report says why
    unknown = _decide('{"version_ranges": {"comfyui": ">=0.4"}}', version=None)
    assert unknown.allowed and "unknown" in unknown.reason


@pytest.mark.parametrize(
    "text",
    [
        '{"version_ranges": {"comfyui": "0.3.*.bad"}}',
        '{"version_ranges": {"comfyui": "latest"}}',
        '{"version_ranges": ["comfyui"]}',
        "{not json",
        "[]",
    ],
)
def test_invalid_overrides_exclude_and_warn_naming_the_file(text, caplog):
    caplog.set_level(logging.WARNING)
    decision = _decide(text)
    assert not decision.allowed
    assert "/lib/m/overrides.json" in decision.reason
    assert "/lib/m/overrides.json" in caplog.text


# -- link method --------------------------------------------------------------------


def test_canary_in_a_real_folder_finds_both_and_cleans_up(tmp_path):
    app, library = tmp_path / "app", tmp_path / "library"
    app.mkdir()
    library.mkdir()
    support = probe(str(app), str(library))
    assert support == LinkSupport(symlink=True, hardlink=True, detail="")
    assert list(app.iterdir()) == [] and list(library.iterdir()) == []


def test_canary_across_file_systems_finds_no_hardlinks(tmp_path):
    shm = Path(tempfile.mkdtemp(dir="/dev/shm"))
    try:
        support = probe(str(shm), str(tmp_path))
        assert support.symlink and not support.hardlink
        assert "cross-device" in support.detail
        assert list(shm.iterdir()) == [] and list(tmp_path.iterdir()) == []
    finally:
        shutil.rmtree(shm)


def test_canary_reports_a_library_it_cannot_write(tmp_path):
    support = probe(str(tmp_path), str(tmp_path / "missing"))
    assert not support.symlink and not support.hardlink and "cannot write" in support.detail


def test_choose_method():
    both, hard_only, none = (
        LinkSupport(True, True),
        LinkSupport(False, True),
        LinkSupport(False, False),
    )
    assert choose_method("auto", both, True).kind == "symlink"
    assert choose_method("auto", both, True).relative
    assert not choose_method("auto", both, False).relative
    assert choose_method("auto", hard_only, True).kind == "hardlink"
    assert choose_method("hardlink", both, True).kind == "hardlink"
    with pytest.raises(LinkUnsupported, match="another file system"):
        choose_method("auto", hard_only, False)
    with pytest.raises(LinkUnsupported, match="symlinks are not supported"):
        choose_method("symlink", hard_only, True)
    with pytest.raises(LinkUnsupported, match="hardlinks are not supported"):
        choose_method("auto", none, True)
