"""Repo clues from where a file was found: HF cache snapshots and org/repo layouts."""

from __future__ import annotations

from modeld.hub.clue import HF_CACHE, PATH_LAYOUT, REPO, Clue
from modeld.hub.pathclues import clues_from_path

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def test_hf_cache_snapshot_path_pins_repo_revision_and_file():
    source = (
        "/home/u/.cache/huggingface/hub/models--black-forest-labs--FLUX.1-dev/"
        f"snapshots/{COMMIT}/vae/diffusion_pytorch_model.safetensors"
    )
    assert clues_from_path(source) == [
        Clue(
            REPO,
            "black-forest-labs/FLUX.1-dev",
            HF_CACHE,
            revision=COMMIT,
            path="vae/diffusion_pytorch_model.safetensors",
        )
    ]
    # a blob path (symlink resolved) still names the repo, without revision
    blob = "/data/hf/hub/models--org--name/blobs/" + "ab" * 32
    assert clues_from_path(blob) == [Clue(REPO, "org/name", HF_CACHE)]


def test_org_repo_download_layout_but_not_ordinary_folders():
    layout = "/home/u/Downloads/TheBloke/Llama-2-7B-GGUF/llama-2-7b.Q4_K_M.gguf"
    assert clues_from_path(layout) == [
        Clue(REPO, "TheBloke/Llama-2-7B-GGUF", PATH_LAYOUT, path="llama-2-7b.Q4_K_M.gguf")
    ]
    assert clues_from_path("/home/u/Downloads/models/x.safetensors") == []
    assert clues_from_path("/mnt/data/loras/x.safetensors") == []
    assert clues_from_path("x.safetensors") == []
