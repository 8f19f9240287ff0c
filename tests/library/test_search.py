import json

import pytest

from modeld.library.index import upsert_model
from modeld.library.metadata import FileEntry, ModelMeta
from modeld.library.search import build_query, search


def add(config, name, file_name, model_type="llm", family="llama", tags=(), description=""):
    digest = f"{abs(hash(name)):016x}".ljust(64, "0")
    meta = ModelMeta(
        id=digest[:16],
        name=name,
        model_type=model_type,
        family=family,
        format="gguf",
        size=1,
        sha256=digest,
        blake3=digest,
        files=[FileEntry(file_name, 1, digest, digest, file_name)],
        tags=list(tags),
        description=description,
    )
    folder = config.library_root / model_type / family / name
    upsert_model(config.library_root, folder, meta)
    return meta


@pytest.fixture
def library(config, index):
    add(config, "Llama-3-8B-Instruct.Q4_K_M", "Llama-3-8B-Instruct.Q4_K_M.gguf")
    add(config, "juggernautXL_v9", "juggernautXL_v9.safetensors", "checkpoint", "sdxl")
    add(config, "detail-tweaker", "add_detail.safetensors", "lora", "sd15", tags=["detail"])
    add(config, "qwen2.5-7b", "qwen2.5-7b-instruct-q8_0.gguf", family="qwen")
    return config


@pytest.mark.parametrize("term", ["instruct", "llama", "q4_k_m", "Q4_K_M", "struc", "8b-inst"])
def test_trigram_terms_find_the_llama(library, term):
    names = [r.name for r in search(term)]
    assert "Llama-3-8B-Instruct.Q4_K_M" in names


def test_sdxl_finds_by_family_and_ranks_name_hits_first(library):
    assert [r.name for r in search("sdxl")] == ["juggernautXL_v9"]
    assert next(r.name for r in search("instruct")) == "Llama-3-8B-Instruct.Q4_K_M"


def test_terms_are_anded_and_type_filters(library):
    assert [r.name for r in search("instruct qwen")] == ["qwen2.5-7b"]
    assert [r.name for r in search("instruct", model_type="lora")] == []
    assert [r.name for r in search("detail", model_type="lora")] == ["detail-tweaker"]


def test_short_terms_use_like(library):
    assert [r.name for r in search("xl")] == ["juggernautXL_v9"]
    assert {r.name for r in search("7b")} == {"qwen2.5-7b"}


def test_no_query_lists_everything(library):
    assert len(search("")) == 4
    assert len(search(None, limit=2)) == 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('"', set()),
        ("*", set()),
        (":", set()),
        ("'", set()),
        ("-", {"Llama-3-8B-Instruct.Q4_K_M", "detail-tweaker", "qwen2.5-7b"}),
        ("NEAR(", set()),
        ("AND", set()),
        ("OR NOT", set()),
        ("a" * 500, set()),
        ("🦙", set()),
        ("%_\\", set()),
        ("_", {"Llama-3-8B-Instruct.Q4_K_M", "juggernautXL_v9"}),
        ("tail*", set()),
    ],
)
def test_hostile_queries_are_just_text(library, text, expected):
    assert {r.name for r in search(text)} == expected


def test_query_quotes_every_term():
    query = build_query('in"struct NEAR( ab')
    assert query.match == '"in""struct" "NEAR("'
    assert query.match_terms == 2
    assert query.like_terms == ("%ab%",)


@pytest.mark.parametrize("text", ['"', "*", ":", "'", "-", "NEAR(", "AND", "x" * 500, "🦙"])
def test_cli_search_returns_valid_json_for_hostile_text(cli, text):
    result = cli.run("search", text, "--json", check=False)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []


def test_a_confirmed_hub_repo_is_searchable(config, index):
    meta = add(config, "model", "model.safetensors", "checkpoint", "sdxl")
    meta.hub = {"repo_id": "stabilityai/sdxl-turbo", "author": "stabilityai", "tags": ["turbo"]}
    from modeld.library.index import upsert_model

    upsert_model(config.library_root, config.library_root / "checkpoint/sdxl/model", meta)
    assert [r.name for r in search("stabilityai")] == ["model"]
    assert [r.name for r in search("turbo")] == ["model"]
