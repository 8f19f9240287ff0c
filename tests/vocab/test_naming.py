import pytest

from modeld.vocab.naming import (
    MAX_COMPONENT_CHARS,
    collision_key,
    safe_component,
    split_extension,
    unique_component,
)


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("Model:A.safetensors", "Model_A.safetensors"),
        ('a<b>c"d|e?f*g.ckpt', "a_b_c_d_e_f_g.ckpt"),
        ("back\\slash/slash.gguf", "back_slash_slash.gguf"),
        ("tab\there\nnewline.gguf", "tab_here_newline.gguf"),
        ("trailing dots...", "trailing dots"),
        ("trailing space .gguf", "trailing space.gguf"),
        ("CON.txt", "CON_.txt"),
        ("con", "con_"),
        ("lpt9.bin", "lpt9_.bin"),
        ("COM0", "COM0_"),
        ("conout$.x", "conout$_.x"),
        ("...", "model"),
        ("", "model"),
        ("Llama-3-8B-Instruct.Q4_K_M.gguf", "Llama-3-8B-Instruct.Q4_K_M.gguf"),
        ("über-modèl.safetensors", "über-modèl.safetensors"),
    ],
)
def test_safe_component(raw, safe):
    assert safe_component(raw) == safe


def test_length_cap_keeps_the_extension():
    name = "x" * 300 + ".safetensors"
    safe = safe_component(name)
    assert safe.endswith(".safetensors")
    assert len(safe) <= MAX_COMPONENT_CHARS


def test_multibyte_names_stay_under_the_byte_limit():
    safe = safe_component("模型" * 100 + ".gguf")
    assert safe.endswith(".gguf")
    assert len(safe.encode()) <= 240


def test_split_extension_takes_only_the_last_suffix():
    assert split_extension("a.Q4_K_M.gguf") == ("a.Q4_K_M", ".gguf")
    assert split_extension(".hidden") == (".hidden", "")
    assert split_extension("noext") == ("noext", "")


def test_case_only_twins_collide():
    taken = {collision_key("Model.safetensors")}
    name = unique_component("MODEL.safetensors", taken, "abcdef0123")
    assert name == "MODEL-abcd.safetensors"
    assert unique_component("other.safetensors", taken, "abcdef0123") == "other.safetensors"


def test_suffix_grows_until_free():
    taken = {collision_key(n) for n in ("m.gguf", "m-abcd.gguf", "m-abcdef01.gguf")}
    assert unique_component("m.gguf", taken, "abcdef0123456789") == "m-abcdef0123456789.gguf"
