"""Identification over real files: the labelled corpus, and the rules one by one."""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path

import pytest

from modeld.ingest.formats import Sniffed, inspect_unit
from modeld.ingest.identify import Identity, humanize_params, identify
from modeld.ingest.units import ImportUnit, UnitFile, plan_units
from tests import modelfiles

FIELDS = ("format", "model_type", "family", "precision", "quant", "files")


def identify_path(path: Path) -> tuple[Sniffed, Identity]:
    units, problems = plan_units([path], boundary=path.parent)
    assert problems == [] and len(units) == 1
    sniffed = inspect_unit(units[0])
    assert isinstance(sniffed, Sniffed), sniffed
    return sniffed, identify(units[0], sniffed)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    expected = modelfiles.build_corpus(root)
    units, problems = plan_units([root], boundary=root)
    assert problems == []
    by_entry = {u.primary.path.relative_to(root).parts[0]: u for u in units}
    return expected, by_entry


def test_corpus_is_identified_exactly(corpus, capsys):
    expected, units = corpus
    right: Counter[str] = Counter()
    wrong = []
    for entry in expected:
        unit = units[entry.rel]
        sniffed = inspect_unit(unit)
        assert isinstance(sniffed, Sniffed), (entry.rel, sniffed)
        identity = identify(unit, sniffed)
        got = {
            "format": sniffed.format,
            "model_type": identity.model_type.value,
            "family": identity.family.value,
            "precision": identity.precision.value,
            "quant": identity.quant.value,
            "files": len(unit.files),
        }
        for name in FIELDS:
            if got[name] == getattr(entry, name):
                right[name] += 1
            else:
                wrong.append((entry.rel, name, got[name], getattr(entry, name)))
    with capsys.disabled():
        total = len(expected)
        print(f"\nidentification accuracy over {total} corpus models:")
        for name in FIELDS:
            print(f"  {name:11} {right[name]}/{total} = {right[name] / total:.0%}")
    assert wrong == []


def test_corpus_covers_every_model_type_and_format(corpus):
    expected, _units = corpus
    assert {e.model_type for e in expected} == {
        "checkpoint", "lora", "vae", "controlnet", "embedding", "upscaler",
        "text_encoder", "clip_vision", "diffusion_model", "diffusers", "llm",
    }  # fmt: skip
    assert {e.format for e in expected} == {"safetensors", "gguf", "pickle", "onnx", "diffusers"}


def test_labels_say_where_they_came_from(tmp_path):
    _, header = identify_path(modelfiles.sdxl_checkpoint(tmp_path / "a" / "anything.safetensors"))
    assert header.model_type.source == "header" and header.family.source == "header"
    assert header.family.confidence >= 0.9
    _, metadata = identify_path(
        modelfiles.lora(
            tmp_path / "b" / "x.safetensors",
            "sd15",
            "lokr",
            metadata={"modelspec.architecture": "stable-diffusion-xl-v1-base/lora"},
        )
    )
    assert metadata.family.value == "sdxl" and metadata.family.source == "metadata"
    _, name = identify_path(modelfiles.vae(tmp_path / "c" / "sdxl_vae_fp16_fix.safetensors"))
    assert name.family.value == "sdxl" and name.family.source == "name"
    assert name.family.confidence < header.family.confidence


def test_lora_base_follows_from_the_rank_shapes(tmp_path):
    """Same key names, different context width: the down projection's input decides."""
    for base, family in (("sd15", "sd15"), ("sd2", "sd2")):
        _, identity = identify_path(modelfiles.lora(tmp_path / base / "x.safetensors", base))
        assert identity.family.value == family
        assert identity.extra["context_dim"] == modelfiles.CONTEXT_DIM[base]


@pytest.mark.parametrize(
    ("style", "evidence"),
    [("lora", "lora"), ("locon", "locon"), ("loha", "loha"), ("lokr", "lokr")],
)
def test_lycoris_styles_are_loras(tmp_path, style, evidence):
    _, identity = identify_path(modelfiles.lora(tmp_path / "x.safetensors", "sdxl", style))
    assert identity.model_type.value == "lora"
    assert identity.extra["lora_style"] == evidence


def test_gguf_quant_precision_and_hints(tmp_path):
    path = modelfiles.write_gguf(
        tmp_path / "whatever.gguf",
        arch="llama",
        name="Llama 3.1 8B Instruct",
        file_type="Q6_K",
        extra_kv={
            "general.size_label": "8B",
            "general.source.huggingface.repository": "meta-llama/Llama-3.1-8B-Instruct",
            "general.base_model.0.repo_url": "https://huggingface.co/meta-llama/Llama-3.1-8B",
        },
    )
    _, identity = identify_path(path)
    assert (identity.quant.value, identity.quant.source) == ("Q6_K", "header")
    assert identity.precision.value is None
    assert identity.size_class.value == "8B"
    assert (
        identity.hints["general.source.huggingface.repository"]
        == "meta-llama/Llama-3.1-8B-Instruct"
    )
    assert identity.hints["general.base_model.0.repo_url"].endswith("Llama-3.1-8B")


def test_gguf_without_file_type_takes_the_quant_from_the_name(tmp_path):
    _, identity = identify_path(
        modelfiles.write_gguf(tmp_path / "model.IQ4_XS.gguf", file_type=None)
    )
    assert (identity.quant.value, identity.quant.source) == ("IQ4_XS", "name")
    _, identity = identify_path(
        modelfiles.write_gguf(tmp_path / "x" / "model.gguf", file_type=None)
    )
    assert (identity.quant.value, identity.quant.source) == ("Q4_K", "header")


def test_gguf_unknown_architecture_stays_llm_with_its_name(tmp_path):
    _, identity = identify_path(modelfiles.write_gguf(tmp_path / "m.gguf", arch="zorgnet"))
    assert identity.model_type.value == "llm" and identity.family.value == "zorgnet"


def test_params_and_size_class_from_the_header(tmp_path):
    tensors = modelfiles.llm_tensors("llama", layers=32, hidden=4096)
    _, identity = identify_path(modelfiles.write_safetensors(tmp_path / "big.safetensors", tensors))
    assert identity.params == sum(math.prod(shape) for _dtype, shape in tensors.values())
    assert identity.size_class.value == humanize_params(identity.params)
    assert humanize_params(7_241_732_096) == "7.2B"
    assert humanize_params(13_000_000_000) == "13B"
    assert humanize_params(135_000_000) == "135M"
    assert humanize_params(999) == "999"


def test_config_json_decides_an_llm_family(tmp_path):
    folder = tmp_path / "Some-Finetune"
    modelfiles.llm_safetensors(folder / "model.safetensors", "llama")
    (folder / "config.json").write_text(
        json.dumps({"model_type": "mistral", "_name_or_path": "mistralai/Mistral-7B-v0.1"})
    )
    units, _ = plan_units([folder])
    sniffed = inspect_unit(units[0])
    identity = identify(units[0], sniffed)
    assert (identity.family.value, identity.family.source) == ("mistral", "metadata")
    assert identity.hints["config._name_or_path"] == "mistralai/Mistral-7B-v0.1"
    assert units[0].name == "Some-Finetune"


def test_quantized_safetensors_take_the_quant_from_config(tmp_path):
    folder = tmp_path / "llama-gptq"
    modelfiles.write_safetensors(
        folder / "model.safetensors",
        {
            "model.layers.0.self_attn.q_proj.qweight": ("I32", (64, 64)),
            "lm_head.weight": ("F16", (8, 8)),
        },
    )
    (folder / "config.json").write_text(
        json.dumps(
            {"model_type": "llama", "quantization_config": {"quant_method": "gptq", "bits": 4}}
        )
    )
    units, _ = plan_units([folder])
    identity = identify(units[0], inspect_unit(units[0]))
    assert identity.quant.value == "GPTQ" and identity.precision.value is None


def test_name_does_not_override_the_header(tmp_path):
    # a LoRA named like a VAE for SDXL is still an SD1.5 LoRA
    _, identity = identify_path(
        modelfiles.lora(tmp_path / "sdxl_vae_lookalike.safetensors", "sd15")
    )
    assert identity.model_type.value == "lora" and identity.family.value == "sd15"


def test_unknown_tensors_fall_back_to_the_name_then_to_unknown(tmp_path):
    _, named = identify_path(
        modelfiles.write_safetensors(
            tmp_path / "a" / "my_lora_v2.safetensors", {"weird.thing": ("F16", (2,))}
        )
    )
    assert (named.model_type.value, named.model_type.source) == ("lora", "name")
    _, unknown = identify_path(
        modelfiles.write_safetensors(
            tmp_path / "b" / "blob.safetensors", {"weird.thing": ("F16", (2,))}
        )
    )
    assert unknown.model_type.value == "unknown" and unknown.family.value == "unknown"
    assert unknown.model_type.source == "default" and unknown.model_type.confidence == 0.0


def test_dolphin_is_not_phi(tmp_path):
    _, identity = identify_path(
        modelfiles.llm_safetensors(tmp_path / "dolphin-2.9-llama3.safetensors", "llama")
    )
    assert identity.family.value == "llama"


def test_labels_are_json_and_match_the_identity(tmp_path):
    unit = ImportUnit(
        "file",
        "x",
        (UnitFile(modelfiles.lora(tmp_path / "x.safetensors"), "x.safetensors", "weights"),),
    )
    identity = identify(unit, inspect_unit(unit))
    labels = json.loads(json.dumps(identity.labels()))
    assert labels["model_type"] == {
        "value": "lora",
        "source": "header",
        "confidence": identity.model_type.confidence,
    }
    assert labels["precision"]["value"] == "fp16" and labels["params"] == identity.params
    assert labels["evidence"]["lora_style"] == "lora"


def test_peft_adapter_takes_its_base_from_adapter_config(tmp_path):
    folder = tmp_path / "my-qlora"
    modelfiles.llm_lora(folder / "adapter_model.safetensors")
    (folder / "adapter_config.json").write_text(
        json.dumps({"base_model_name_or_path": "Qwen/Qwen2.5-7B-Instruct", "peft_type": "LORA"})
    )
    units, problems = plan_units([folder])
    assert problems == [] and units[0].name == "my-qlora"
    identity = identify(units[0], inspect_unit(units[0]))
    assert identity.model_type.value == "lora"
    assert (identity.family.value, identity.family.source) == ("qwen", "metadata")
    assert identity.hints["adapter.base_model"] == "Qwen/Qwen2.5-7B-Instruct"
