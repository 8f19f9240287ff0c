"""Clues to a file's Hub repo: pure functions over header fields, names and paths."""

from __future__ import annotations

from modeld.hub.clue import (
    BASE_MODEL,
    FILE_NAME,
    FOLDER_NAME,
    GGUF_NAME,
    GGUF_SIBLING,
    GGUF_SOURCE,
    HEADER_METADATA,
    MODEL_NAME,
    REPO,
    SEARCH,
    SIDECAR,
    SIDECAR_NAME,
    Clue,
)
from modeld.hub.clues import collect_clues, header_fields, repo_from_url
from modeld.hub.names import is_repo_id, search_term

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def repos(clues: list[Clue]) -> list[tuple[str, str]]:
    return [(c.value, c.source) for c in clues if c.kind == REPO]


def searches(clues: list[Clue]) -> list[tuple[str, str]]:
    return [(c.value, c.source) for c in clues if c.kind == SEARCH]


def test_gguf_header_source_repo_and_base_models_in_strength_order():
    details = {
        "kv": {
            "general.architecture": "llama",
            "general.name": "Meta Llama 3 8B Instruct",
            "general.source.huggingface.repository": "meta-llama/Meta-Llama-3-8B-Instruct",
            "general.base_model.count": 1,
            "general.base_model.0.name": "Meta Llama 3 8B",
            "general.base_model.0.organization": "Meta Llama",
            "general.base_model.0.repo_url": "https://huggingface.co/meta-llama/Meta-Llama-3-8B",
            "tokenizer.ggml.model": "gpt2",
        }
    }
    clues = collect_clues(
        "Meta-Llama-3-8B-Instruct.Q4_K_M.gguf", model_format="gguf", details=details
    )
    assert repos(clues) == [
        ("meta-llama/Meta-Llama-3-8B-Instruct", GGUF_SOURCE),
        ("meta-llama/Meta-Llama-3-8B-Instruct-GGUF", GGUF_SIBLING),
        ("meta-llama/Meta-Llama-3-8B-GGUF", GGUF_SIBLING),
        ("meta-llama/Meta-Llama-3-8B", BASE_MODEL),
    ]
    # the file name and the source repo name strip to the same term: searched once
    assert searches(clues) == [
        ("Meta-Llama-3-8B-Instruct", GGUF_SOURCE),
        ("Meta-Llama-3-8B", BASE_MODEL),
        ("Meta Llama 3 8B Instruct", GGUF_NAME),
    ]


def test_gguf_source_url_and_base_model_without_url():
    details = {
        "general.source.url": "https://huggingface.co/Qwen/Qwen2.5-0.5B-Instruct",
        "general.base_model.0.organization": "Qwen",
        "general.base_model.0.name": "Qwen2.5 0.5B",
    }
    clues = collect_clues("qwen2.5-0.5b-instruct-q8_0.gguf", details=details)
    assert ("Qwen/Qwen2.5-0.5B-Instruct", GGUF_SOURCE) in repos(clues)
    assert ("Qwen/Qwen2.5-0.5B-Instruct-GGUF", GGUF_SIBLING) in repos(clues)
    # organization + name make a plausible repo id
    assert ("Qwen/Qwen2.5-0.5B", BASE_MODEL) in repos(clues)


def test_safetensors_metadata_repo_fields_and_names():
    details = {
        "metadata": {
            "modelspec.title": "Cool Style LoRA",
            "ss_output_name": "cool_style_v2",
            "ss_sd_model_name": "sd_xl_base_1.0.safetensors",
            "source": "https://huggingface.co/someone/cool-style/blob/main/cool_style_v2.safetensors",
            "ss_tag_frequency": "x" * 100_000,  # huge training blob: ignored
        }
    }
    clues = collect_clues("cool_style_v2.safetensors", details=details)
    repo_clues = [c for c in clues if c.kind == REPO]
    assert repo_clues == [
        Clue(REPO, "someone/cool-style", HEADER_METADATA, path="cool_style_v2.safetensors")
    ]
    # named by the header and by the file: one search, credited to the stronger source
    assert ("cool_style_v2", HEADER_METADATA) in searches(clues)
    assert ("Cool Style LoRA", HEADER_METADATA) in searches(clues)


def test_companion_config_name_or_path_is_a_repo_clue():
    details = {"config": {"_name_or_path": "stabilityai/sdxl-vae", "architectures": ["X"]}}
    assert repos(collect_clues("diffusion_pytorch_model.safetensors", details=details)) == [
        ("stabilityai/sdxl-vae", HEADER_METADATA)
    ]


def test_folder_name_becomes_a_search_term():
    clues = collect_clues(
        "model.safetensors", sources=["/home/u/Downloads/Juggernaut-XL-v9/model.safetensors"]
    )
    assert searches(clues) == [("Juggernaut-XL-v9", FOLDER_NAME)]


def test_civitai_sidecar_gives_urls_and_a_model_name():
    sidecar = {
        "id": 1,
        "model": {"name": "Juggernaut XL", "type": "Checkpoint"},
        "description": 'Mirror: <a href="https://huggingface.co/RunDiffusion/Juggernaut-XL-v9">HF</a>',
        "files": [{"hashes": {"SHA256": "AB" * 32}}],
    }
    clues = collect_clues("jugg.safetensors", sidecars={"jugg.civitai.info": sidecar})
    assert repos(clues) == [("RunDiffusion/Juggernaut-XL-v9", SIDECAR)]
    assert ("Juggernaut XL", SIDECAR_NAME) in searches(clues)


def test_json_sidecar_repo_id_key():
    clues = collect_clues("m.safetensors", sidecars={"m.json": {"repo_id": "org/some-model"}})
    assert repos(clues) == [("org/some-model", SIDECAR)]


def test_generic_names_are_not_searched():
    for name in (
        "model.safetensors",
        "diffusion_pytorch_model.safetensors",
        "pytorch_model-00001-of-00002.bin",
        "ggml-model-Q4_K_M.gguf",
        "q4.gguf",
    ):
        assert search_term(name) is None, name
    assert search_term("Juggernaut-XL-v9.safetensors") == "Juggernaut-XL-v9"
    assert searches(collect_clues("Juggernaut-XL-v9.safetensors")) == [
        ("Juggernaut-XL-v9", FILE_NAME)
    ]


def test_repo_ids_and_urls():
    assert is_repo_id("org/name.v1_2-x")
    assert not is_repo_id("org/na--me")
    assert not is_repo_id("org/name.git")
    assert not is_repo_id("-org/name")
    assert not is_repo_id("a/b/c")
    assert repo_from_url("see https://huggingface.co/datasets/x/y and hf.co") is None
    assert repo_from_url("https://hf.co/org/name/resolve/main/sub/f.gguf?download=1") == (
        "org/name",
        "main",
        "sub/f.gguf",
    )


def test_branch_names_in_urls_do_not_pin_a_revision():
    url = f"https://huggingface.co/org/name/blob/{COMMIT}/f.safetensors"
    pinned = collect_clues("f.safetensors", details={"metadata": {"url": url}})
    assert pinned[0].revision == COMMIT
    moving = collect_clues(
        "f.safetensors", details={"metadata": {"url": url.replace(COMMIT, "main")}}
    )
    assert moving[0].revision is None


def test_header_fields_accepts_flat_and_nested_shapes():
    nested = {"general": {"source": {"url": "u"}, "name": "n"}, "tensors": {"a": {"dtype": "F16"}}}
    assert header_fields(nested) == {"general.source.url": "u", "general.name": "n"}
    assert header_fields({"kv": {"general.name": "n"}}) == {"general.name": "n"}


def test_hostile_details_stay_bounded():
    deep: dict = {}
    node = deep
    for _ in range(10_000):
        node["x"] = {}
        node = node["x"]
    wide = {f"k{i}": "https://huggingface.co/a/b" for i in range(50_000)}
    clues = collect_clues("f.gguf", details={"deep": deep, "metadata": wide})
    assert repos(clues) == [("a/b", HEADER_METADATA)]
    huge_sidecar = {"list": ["https://huggingface.co/c/d"] * 100_000}
    assert repos(collect_clues("f.gguf", sidecars={"f.json": huge_sidecar})) == [("c/d", SIDECAR)]


def test_model_name_is_searched_without_stripping_a_fake_extension():
    clues = collect_clues(
        "diffusion_pytorch_model.safetensors", model_name="stable-diffusion-xl-base-1.0"
    )
    assert searches(clues) == [("stable-diffusion-xl-base-1.0", MODEL_NAME)]
