"""Real model files, written in code: the fixtures every test suite shares.

Every writer produces bytes in the real on-disk format (safetensors, GGUF v3,
a PyTorch zip with a hand-assembled pickle, raw pickles, ONNX protobuf,
diffusers folders, shard sets), with tiny shapes so files stay in the KB range.
Tensor data is zero-filled through `truncate`, so a writer can also declare a
large model (e.g. a 7B LLM) as a sparse file that costs no disk space.

The dangerous pickles are assembled opcode by opcode and are never loaded:
if anything ever unpickled them, they would create `marker` (a path the test
chooses), which is how tests prove nothing ran.
"""

from __future__ import annotations

import io
import json
import math
import os
import stat
import struct
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# -- safetensors -------------------------------------------------------------

SAFETENSORS_BITS = {
    "BOOL": 8,
    "U8": 8,
    "I8": 8,
    "F8_E5M2": 8,
    "F8_E4M3": 8,
    "I16": 16,
    "U16": 16,
    "F16": 16,
    "BF16": 16,
    "I32": 32,
    "U32": 32,
    "F32": 32,
    "F64": 64,
    "I64": 64,
    "U64": 64,
}

TensorSpec = tuple[str, Sequence[int]]  # (dtype, shape)


def safetensors_header(
    tensors: Mapping[str, TensorSpec], metadata: Mapping[str, str] | None = None
) -> tuple[bytes, int]:
    """(header JSON bytes padded to 8, data size) for `tensors` laid out in order."""
    header: dict[str, Any] = {}
    if metadata is not None:
        header["__metadata__"] = dict(metadata)
    offset = 0
    for name, (dtype, shape) in tensors.items():
        nbytes = math.prod(shape) * SAFETENSORS_BITS[dtype] // 8
        header[name] = {
            "dtype": dtype,
            "shape": list(shape),
            "data_offsets": [offset, offset + nbytes],
        }
        offset += nbytes
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)  # the reference writer pads with spaces to 8 bytes
    return raw, offset


def write_safetensors(
    path: Path,
    tensors: Mapping[str, TensorSpec],
    metadata: Mapping[str, str] | None = None,
) -> Path:
    """A valid safetensors file; the data region is zeros (sparse on disk)."""
    raw, data_size = safetensors_header(tensors, metadata)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(struct.pack("<Q", len(raw)))
        handle.write(raw)
        handle.truncate(8 + len(raw) + data_size)
    return path


# -- GGUF --------------------------------------------------------------------

GGUF_VALUE_TYPES = {
    "u8": 0,
    "i8": 1,
    "u16": 2,
    "i16": 3,
    "u32": 4,
    "i32": 5,
    "f32": 6,
    "bool": 7,
    "str": 8,
    "array": 9,
    "u64": 10,
    "i64": 11,
    "f64": 12,
}
_GGUF_PACK = {
    0: "<B",
    1: "<b",
    2: "<H",
    3: "<h",
    4: "<I",
    5: "<i",
    6: "<f",
    7: "<?",
    10: "<Q",
    11: "<q",
    12: "<d",
}

# ggml tensor type → (id, block size, bytes per block)
GGML_TYPES = {
    "F32": (0, 1, 4),
    "F16": (1, 1, 2),
    "Q4_0": (2, 32, 18),
    "Q8_0": (8, 32, 34),
    "Q4_K": (12, 256, 144),
    "Q5_K": (13, 256, 176),
    "Q6_K": (14, 256, 210),
    "BF16": (30, 1, 2),
}

# llama_ftype values (general.file_type)
GGUF_FILE_TYPES = {
    "F32": 0,
    "F16": 1,
    "Q4_0": 2,
    "Q8_0": 7,
    "Q4_K_M": 15,
    "Q5_K_M": 17,
    "Q6_K": 18,
    "IQ3_XS": 22,
    "BF16": 32,
}


def gguf_string(text: str | bytes) -> bytes:
    raw = text.encode() if isinstance(text, str) else text
    return struct.pack("<Q", len(raw)) + raw


def gguf_value(value: Any, kind: str | None = None) -> tuple[int, bytes]:
    """(type id, encoded value); `kind` forces a numeric type ('u32', 'f32', ...)."""
    if isinstance(value, list):
        element_kind = kind or _gguf_kind(value[0] if value else "")
        element_type = GGUF_VALUE_TYPES[element_kind]
        body = b"".join(gguf_value(v, element_kind)[1] for v in value)
        return GGUF_VALUE_TYPES["array"], struct.pack("<IQ", element_type, len(value)) + body
    kind = kind or _gguf_kind(value)
    type_id = GGUF_VALUE_TYPES[kind]
    if kind == "str":
        return type_id, gguf_string(value)
    return type_id, struct.pack(_GGUF_PACK[type_id], value)


def _gguf_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "u32" if 0 <= value < 2**32 else "i64"
    if isinstance(value, float):
        return "f32"
    return "str"


def write_gguf(
    path: Path,
    arch: str = "llama",
    name: str | None = "Tiny Llama",
    file_type: str | int | None = "Q4_K_M",
    extra_kv: Mapping[str, Any] | None = None,
    tensors: Mapping[str, TensorSpec] | None = None,
    *,
    version: int = 3,
    alignment: int = 32,
    vocab: int = 0,
) -> Path:
    """A valid GGUF (v2 or v3) file, written by hand.

    `tensors` maps name → (ggml type, shape in ggml order); by default a tiny
    llama-style set. `vocab` adds that many tokenizer.ggml.tokens strings,
    which a header-only reader must skip quickly. An `extra_kv` value may be
    a `(kind, value)` pair to force a type, e.g. `("u64", 5)`.
    """
    kv: dict[str, Any] = {"general.architecture": arch}
    if name is not None:
        kv["general.name"] = name
    if file_type is not None:
        kv["general.file_type"] = (
            GGUF_FILE_TYPES[file_type] if isinstance(file_type, str) else file_type
        )
    if alignment != 32:
        kv["general.alignment"] = alignment
    if vocab:
        kv["tokenizer.ggml.model"] = "llama"
        kv["tokenizer.ggml.tokens"] = [f"tok{i}" for i in range(vocab)]
        kv["tokenizer.ggml.scores"] = ("f32", [0.0] * vocab)
    kv.update(extra_kv or {})
    if tensors is None:
        tensors = llama_gguf_tensors()

    out = bytearray(b"GGUF")
    out += struct.pack("<I", version)
    out += struct.pack("<QQ", len(tensors), len(kv))
    for key, value in kv.items():
        kind = None
        if isinstance(value, tuple):
            kind, value = value
        type_id, encoded = gguf_value(value, kind)
        out += gguf_string(key) + struct.pack("<I", type_id) + encoded
    offset = 0
    for tensor_name, (ggml_type, shape) in tensors.items():
        type_id, block, block_bytes = GGML_TYPES[ggml_type]
        out += gguf_string(tensor_name) + struct.pack("<I", len(shape))
        out += b"".join(struct.pack("<Q", d) for d in shape)
        out += struct.pack("<IQ", type_id, offset)
        nbytes = math.prod(shape) // block * block_bytes
        offset += nbytes + (-nbytes % alignment)
    out += b"\0" * (-len(out) % alignment)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(out)
        handle.truncate(len(out) + offset)
    return path


def llama_gguf_tensors(
    layers: int = 2, dim: int = 256, ggml_type: str = "Q4_K"
) -> dict[str, TensorSpec]:
    tensors: dict[str, TensorSpec] = {"token_embd.weight": (ggml_type, (dim, 32))}
    for i in range(layers):
        tensors[f"blk.{i}.attn_norm.weight"] = ("F32", (dim,))
        for part in ("attn_q", "attn_k", "attn_v", "attn_output", "ffn_up", "ffn_down", "ffn_gate"):
            tensors[f"blk.{i}.{part}.weight"] = (ggml_type, (dim, dim))
    tensors["output_norm.weight"] = ("F32", (dim,))
    tensors["output.weight"] = (ggml_type, (dim, 32))
    return tensors


# -- pickles -----------------------------------------------------------------


def _pickle_str(text: str) -> bytes:
    raw = text.encode()
    if len(raw) < 256:
        return b"\x8c" + bytes([len(raw)]) + raw  # SHORT_BINUNICODE
    return b"X" + struct.pack("<I", len(raw)) + raw  # BINUNICODE


def _pickle_int(value: int) -> bytes:
    if 0 <= value < 256:
        return b"K" + bytes([value])  # BININT1
    return b"J" + struct.pack("<i", value)  # BININT


def _global(module: str, name: str) -> bytes:
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"  # GLOBAL


def benign_state_dict_pickle(
    tensors: Mapping[str, TensorSpec], storage: str = "HalfStorage"
) -> bytes:
    """The pickle `torch.save(state_dict)` writes: an OrderedDict of rebuilt tensors."""
    out = bytearray(b"\x80\x02")
    out += _global("collections", "OrderedDict") + b")R"  # EMPTY_TUPLE, REDUCE
    out += b"("  # MARK for SETITEMS
    for index, (name, (_dtype, shape)) in enumerate(tensors.items()):
        numel = math.prod(shape)
        strides = [math.prod(shape[i + 1 :]) for i in range(len(shape))]
        out += _pickle_str(name)
        out += _global("torch._utils", "_rebuild_tensor_v2")
        out += b"("  # MARK: args of _rebuild_tensor_v2
        out += b"(" + _pickle_str("storage") + _global("torch", storage)
        out += (
            _pickle_str(str(index)) + _pickle_str("cpu") + _pickle_int(numel) + b"tQ"
        )  # TUPLE, BINPERSID
        out += _pickle_int(0)
        out += b"(" + b"".join(_pickle_int(d) for d in shape) + b"t"
        out += b"(" + b"".join(_pickle_int(s) for s in strides) + b"t"
        out += b"\x89"  # NEWFALSE: requires_grad
        out += _global("collections", "OrderedDict") + b")R"
        out += b"tR"  # TUPLE, REDUCE
    out += b"u."  # SETITEMS, STOP
    return bytes(out)


def dangerous_pickle(kind: str, marker: Path, script: Path | None = None) -> bytes:
    """A pickle that, if ever loaded, would create `marker`. Built from raw opcodes.

    kinds: os.system, posix.system, builtins.exec, builtins.eval (protocol 0),
    subprocess.Popen, runpy.run_path (needs `script`), memo (os.system hidden
    behind memoised STACK_GLOBAL strings), nested (os.system inside a benign
    state dict value).
    """
    command = f"touch {marker}"
    if kind in ("os.system", "posix.system"):
        module = kind.split(".")[0]
        return b"\x80\x02" + _global(module, "system") + _pickle_str(command) + b"\x85R."
    if kind == "builtins.exec":
        code = f"open({str(marker)!r}, 'w').write('ran')"
        return (
            b"\x80\x04"
            + _pickle_str("builtins")
            + b"\x94"
            + _pickle_str("exec")
            + b"\x94\x93"  # MEMOIZE, STACK_GLOBAL
            + _pickle_str(code)
            + b"\x85R."
        )
    if kind == "builtins.eval":  # protocol 0, text opcodes only
        code = f"open({str(marker)!r}, 'w')"
        return b"c__builtin__\neval\n(V" + code.encode() + b"\ntR."
    if kind == "subprocess.Popen":
        return (
            b"\x80\x02"
            + _global("subprocess", "Popen")
            + b"(]("  # MARK, EMPTY_LIST, MARK
            + _pickle_str("touch")
            + _pickle_str(str(marker))
            + b"etR."  # APPENDS, TUPLE, REDUCE, STOP
        )
    if kind == "runpy.run_path":
        if script is None:
            raise ValueError("runpy.run_path needs a script path")
        script.write_text(f"open({str(marker)!r}, 'w').write('ran')\n")
        return b"\x80\x02" + _global("runpy", "run_path") + _pickle_str(str(script)) + b"\x85R."
    if kind == "memo":
        # the module/name strings are memoised first and fetched back with BINGET
        return (
            b"\x80\x04"
            + _pickle_str("os")
            + b"q\x00"  # BINPUT 0
            + _pickle_str("system")
            + b"q\x01"
            + b"0"  # POP
            + b"0"
            + b"h\x00h\x01"  # BINGET 0, BINGET 1
            + b"\x93"
            + _pickle_str(command)
            + b"\x85R."
        )
    if kind == "nested":
        benign = benign_state_dict_pickle({"w": ("F16", (2,))})
        # same dict, plus a value built by os.system
        return (
            benign[:-2]
            + _pickle_str("hook")
            + _global("os", "system")
            + _pickle_str(command)
            + b"\x85Ru."
        )
    raise ValueError(f"unknown dangerous pickle kind {kind!r}")


def write_torch_zip_pickle(
    path: Path,
    payload: str | bytes = "benign",
    *,
    tensors: Mapping[str, TensorSpec] | None = None,
    storage: str = "HalfStorage",
    marker: Path | None = None,
    script: Path | None = None,
    archive: str = "archive",
) -> Path:
    """A PyTorch zip checkpoint (archive/data.pkl + storages), never loaded.

    `payload` is "benign", a `dangerous_pickle` kind, or raw pickle bytes.
    """
    if tensors is None:
        tensors = {"model.diffusion_model.input_blocks.0.0.weight": ("F16", (4, 4))}
    if isinstance(payload, bytes):
        data_pkl = payload
    elif payload == "benign":
        data_pkl = benign_state_dict_pickle(tensors, storage)
    else:
        if marker is None:
            raise ValueError("dangerous payloads need a marker path")
        data_pkl = dangerous_pickle(payload, marker, script)
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr(f"{archive}/data.pkl", data_pkl)
        zf.writestr(f"{archive}/byteorder", "little")
        for index, (_name, (dtype, shape)) in enumerate(tensors.items()):
            zf.writestr(
                f"{archive}/data/{index}", b"\0" * (math.prod(shape) * SAFETENSORS_BITS[dtype] // 8)
            )
        zf.writestr(f"{archive}/version", "3\n")
    return path


def write_raw_pickle(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


# -- ONNX --------------------------------------------------------------------


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _pb_field(number: int, value: int | bytes | str) -> bytes:
    if isinstance(value, int):
        return _varint(number << 3) + _varint(value)
    raw = value.encode() if isinstance(value, str) else value
    return _varint(number << 3 | 2) + _varint(len(raw)) + raw


def onnx_model_bytes(producer: str = "modeld-tests", ir_version: int = 8, opset: int = 17) -> bytes:
    """A ModelProto: one Identity node over a small float initializer."""
    float_type = _pb_field(
        1, _pb_field(1, 1) + _pb_field(2, _pb_field(1, _pb_field(1, 4)))
    )  # tensor_type
    graph = b"".join(
        [
            _pb_field(
                1,
                _pb_field(1, "x")
                + _pb_field(2, "y")
                + _pb_field(3, "identity")
                + _pb_field(4, "Identity"),
            ),
            _pb_field(2, "tiny_graph"),
            _pb_field(
                5, _pb_field(1, 4) + _pb_field(2, 1) + _pb_field(8, "x") + _pb_field(9, b"\0" * 16)
            ),
            _pb_field(11, _pb_field(1, "x") + _pb_field(2, float_type)),
            _pb_field(12, _pb_field(1, "y") + _pb_field(2, float_type)),
        ]
    )
    return b"".join(
        [
            _pb_field(1, ir_version),
            _pb_field(2, producer),
            _pb_field(3, "1.0"),
            _pb_field(7, graph),
            _pb_field(8, _pb_field(1, "") + _pb_field(2, opset)),
        ]
    )


def write_onnx(path: Path, **kwargs: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(onnx_model_bytes(**kwargs))
    return path


# -- tensor name sets of real model kinds -----------------------------------
# Shapes keep the dimension identification reads (context width, hidden size,
# latent channels) and shrink everything else.

CONTEXT_DIM = {"sd15": 768, "sd2": 1024, "sdxl": 2048}


def _unet_ldm(prefix: str, family: str, dtype: str) -> dict[str, TensorSpec]:
    ctx = CONTEXT_DIM[family]
    t: dict[str, TensorSpec] = {
        f"{prefix}input_blocks.0.0.weight": (dtype, (8, 4, 3, 3)),
        f"{prefix}time_embed.0.weight": (dtype, (8, 8)),
        f"{prefix}middle_block.1.transformer_blocks.0.attn2.to_k.weight": (dtype, (8, ctx)),
        f"{prefix}output_blocks.0.0.in_layers.0.weight": (dtype, (8,)),
        f"{prefix}out.2.weight": (dtype, (4, 8, 3, 3)),
    }
    block = 4 if family == "sdxl" else 1
    t[f"{prefix}input_blocks.{block}.1.transformer_blocks.0.attn2.to_k.weight"] = (dtype, (8, ctx))
    if family == "sdxl":
        t[f"{prefix}label_emb.0.0.weight"] = (dtype, (8, 2816))
        t[f"{prefix}input_blocks.4.1.transformer_blocks.1.attn1.to_q.weight"] = (dtype, (8, 8))
    return t


def _vae_ldm(prefix: str, dtype: str, latent: int = 4) -> dict[str, TensorSpec]:
    t = {
        f"{prefix}encoder.conv_in.weight": (dtype, (8, 3, 3, 3)),
        f"{prefix}encoder.down.0.block.0.conv1.weight": (dtype, (8, 8, 3, 3)),
        f"{prefix}encoder.mid.attn_1.q.weight": (dtype, (8, 8, 1, 1)),
        f"{prefix}encoder.conv_out.weight": (dtype, (2 * latent, 8, 3, 3)),
        f"{prefix}decoder.conv_in.weight": (dtype, (8, latent, 3, 3)),
        f"{prefix}decoder.up.0.block.0.conv1.weight": (dtype, (8, 8, 3, 3)),
        f"{prefix}decoder.conv_out.weight": (dtype, (3, 8, 3, 3)),
    }
    if latent == 4:
        t[f"{prefix}quant_conv.weight"] = (dtype, (8, 8, 1, 1))
        t[f"{prefix}post_quant_conv.weight"] = (dtype, (4, 4, 1, 1))
    return t


def _clip_text(prefix: str, hidden: int, dtype: str, layers: int = 2) -> dict[str, TensorSpec]:
    t: dict[str, TensorSpec] = {
        f"{prefix}embeddings.token_embedding.weight": (dtype, (16, hidden)),
        f"{prefix}embeddings.position_embedding.weight": (dtype, (4, hidden)),
        f"{prefix}final_layer_norm.weight": (dtype, (hidden,)),
    }
    for i in range(layers):
        t[f"{prefix}encoder.layers.{i}.self_attn.q_proj.weight"] = (dtype, (8, hidden))
        t[f"{prefix}encoder.layers.{i}.mlp.fc1.weight"] = (dtype, (8, hidden))
    return t


def sd15_checkpoint(
    path: Path, dtype: str = "F16", metadata: Mapping[str, str] | None = None
) -> Path:
    tensors = _unet_ldm("model.diffusion_model.", "sd15", dtype)
    tensors |= _vae_ldm("first_stage_model.", dtype)
    tensors |= _clip_text("cond_stage_model.transformer.text_model.", 768, dtype)
    return write_safetensors(path, tensors, metadata)


def sd2_checkpoint(path: Path, dtype: str = "F16") -> Path:
    tensors = _unet_ldm("model.diffusion_model.", "sd2", dtype)
    tensors |= _vae_ldm("first_stage_model.", dtype)
    tensors["cond_stage_model.model.transformer.resblocks.0.attn.in_proj_weight"] = (
        dtype,
        (24, 1024),
    )
    tensors["cond_stage_model.model.token_embedding.weight"] = (dtype, (16, 1024))
    return write_safetensors(path, tensors)


def sdxl_checkpoint(path: Path, dtype: str = "F16") -> Path:
    tensors = _unet_ldm("model.diffusion_model.", "sdxl", dtype)
    tensors |= _vae_ldm("first_stage_model.", dtype)
    tensors |= _clip_text("conditioner.embedders.0.transformer.text_model.", 768, dtype)
    tensors["conditioner.embedders.1.model.transformer.resblocks.0.attn.in_proj_weight"] = (
        dtype,
        (24, 1280),
    )
    tensors["conditioner.embedders.1.model.text_projection"] = (dtype, (1280, 8))
    return write_safetensors(path, tensors)


def sd15_checkpoint_pickle(path: Path, storage: str = "HalfStorage") -> Path:
    """SD1.5 as a classic .ckpt: the same tensor names inside a torch zip."""
    tensors = _unet_ldm("model.diffusion_model.", "sd15", "F16")
    tensors |= _vae_ldm("first_stage_model.", "F16")
    tensors |= _clip_text("cond_stage_model.transformer.text_model.", 768, "F16")
    return write_torch_zip_pickle(path, "benign", tensors=tensors, storage=storage)


def sd3_checkpoint(path: Path, dtype: str = "F16") -> Path:
    tensors: dict[str, TensorSpec] = {
        "model.diffusion_model.joint_blocks.0.context_block.attn.qkv.weight": (dtype, (24, 8)),
        "model.diffusion_model.joint_blocks.0.x_block.attn.qkv.weight": (dtype, (24, 8)),
        "model.diffusion_model.x_embedder.proj.weight": (dtype, (8, 16, 2, 2)),
        "model.diffusion_model.pos_embed": (dtype, (1, 4, 8)),
    }
    tensors |= _vae_ldm("first_stage_model.", dtype, latent=16)
    tensors |= _clip_text("text_encoders.clip_l.transformer.text_model.", 768, dtype)
    return write_safetensors(path, tensors)


def _flux_blocks(prefix: str, dtype: str) -> dict[str, TensorSpec]:
    return {
        f"{prefix}img_in.weight": (dtype, (8, 64)),
        f"{prefix}txt_in.weight": (dtype, (8, 4096)),
        f"{prefix}time_in.in_layer.weight": (dtype, (8, 256)),
        f"{prefix}double_blocks.0.img_attn.qkv.weight": (dtype, (24, 8)),
        f"{prefix}double_blocks.0.txt_attn.qkv.weight": (dtype, (24, 8)),
        f"{prefix}single_blocks.0.linear1.weight": (dtype, (24, 8)),
        f"{prefix}final_layer.linear.weight": (dtype, (64, 8)),
    }


def flux_transformer(path: Path, dtype: str = "BF16") -> Path:
    """The Flux transformer alone (BFL layout: double_blocks/single_blocks)."""
    return write_safetensors(path, _flux_blocks("", dtype))


def flux_checkpoint(path: Path, dtype: str = "F8_E4M3") -> Path:
    """ComfyUI's all-in-one Flux checkpoint: transformer + VAE + text encoders."""
    tensors = _flux_blocks("model.diffusion_model.", dtype)
    tensors |= _vae_ldm("vae.", "BF16", latent=16)
    tensors |= _clip_text("text_encoders.clip_l.transformer.text_model.", 768, "BF16")
    return write_safetensors(path, tensors)


def unet_only(path: Path, family: str = "sdxl", dtype: str = "F16") -> Path:
    return write_safetensors(path, _unet_ldm("", family, dtype))


LORA_TARGETS = {
    "sd15": ("down_blocks_1_attentions_0_transformer_blocks_0_attn2_to_k", ["lora_te_"], 768),
    "sd2": ("down_blocks_1_attentions_0_transformer_blocks_0_attn2_to_k", ["lora_te_"], 1024),
    "sdxl": ("input_blocks_4_1_transformer_blocks_0_attn2_to_k", ["lora_te1_", "lora_te2_"], 2048),
}


def lora(
    path: Path,
    base: str = "sd15",
    style: str = "lora",
    rank: int = 4,
    dtype: str = "F16",
    metadata: Mapping[str, str] | None = None,
) -> Path:
    """A kohya-style LoRA. style: lora | locon | loha | lokr | peft (diffusers/PEFT keys)."""
    tensors: dict[str, TensorSpec] = {}
    if base == "flux":
        for block in ("double_blocks_0_img_attn_qkv", "single_blocks_0_linear1"):
            key = f"lora_unet_{block}"
            tensors[f"{key}.lora_down.weight"] = (dtype, (rank, 3072))
            tensors[f"{key}.lora_up.weight"] = (
                dtype,
                (9216, rank) if "qkv" in block else (21504, rank),
            )
            tensors[f"{key}.alpha"] = ("F32", ())
        if style == "peft":
            tensors = {
                "transformer.single_transformer_blocks.0.attn.to_k.lora_A.weight": (
                    dtype,
                    (rank, 3072),
                ),
                "transformer.single_transformer_blocks.0.attn.to_k.lora_B.weight": (
                    dtype,
                    (3072, rank),
                ),
                "transformer.transformer_blocks.0.attn.add_k_proj.lora_A.weight": (
                    dtype,
                    (rank, 3072),
                ),
                "transformer.transformer_blocks.0.attn.add_k_proj.lora_B.weight": (
                    dtype,
                    (3072, rank),
                ),
            }
        return write_safetensors(path, _shrink_lora(tensors), metadata)

    target, te_prefixes, ctx = LORA_TARGETS[base]
    unet_key = f"lora_unet_{target}"
    te_keys = [f"{p}text_model_encoder_layers_0_self_attn_q_proj" for p in te_prefixes]
    te_width = {"lora_te_": 1024 if base == "sd2" else 768, "lora_te1_": 768, "lora_te2_": 1280}
    if style in ("lora", "locon"):
        tensors[f"{unet_key}.lora_down.weight"] = (dtype, (rank, ctx))
        tensors[f"{unet_key}.lora_up.weight"] = (dtype, (8, rank))
        tensors[f"{unet_key}.alpha"] = ("F32", ())
        for prefix, key in zip(te_prefixes, te_keys, strict=True):
            tensors[f"{key}.lora_down.weight"] = (dtype, (rank, te_width[prefix]))
            tensors[f"{key}.lora_up.weight"] = (dtype, (8, rank))
            tensors[f"{key}.alpha"] = ("F32", ())
        if style == "locon":  # LoCon: conv layers of the resnets too
            conv = "lora_unet_down_blocks_0_resnets_0_conv1"
            tensors[f"{conv}.lora_down.weight"] = (dtype, (rank, 320, 3, 3))
            tensors[f"{conv}.lora_up.weight"] = (dtype, (8, rank, 1, 1))
            tensors[f"{conv}.alpha"] = ("F32", ())
    elif style == "loha":
        for suffix in ("hada_w1_a", "hada_w2_a"):
            tensors[f"{unet_key}.{suffix}"] = (dtype, (8, rank))
        for suffix in ("hada_w1_b", "hada_w2_b"):
            tensors[f"{unet_key}.{suffix}"] = (dtype, (rank, ctx))
        tensors[f"{unet_key}.alpha"] = ("F32", ())
        for key in te_keys:
            tensors[f"{key}.hada_w1_a"] = (dtype, (8, rank))
            tensors[f"{key}.hada_w1_b"] = (dtype, (rank, 8))
    elif style == "lokr":
        tensors[f"{unet_key}.lokr_w1"] = (dtype, (4, 4))
        tensors[f"{unet_key}.lokr_w2_a"] = (dtype, (2, rank))
        tensors[f"{unet_key}.lokr_w2_b"] = (dtype, (rank, ctx // 4))
    elif style == "peft":
        tensors["unet.down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k.lora_A.weight"] = (
            dtype,
            (rank, ctx),
        )
        tensors["unet.down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k.lora_B.weight"] = (
            dtype,
            (8, rank),
        )
    else:
        raise ValueError(f"unknown LoRA style {style!r}")
    return write_safetensors(path, tensors, metadata)


def _shrink_lora(tensors: dict[str, TensorSpec]) -> dict[str, TensorSpec]:
    """Keep the input width (identification reads it) and cut the output width."""
    out: dict[str, TensorSpec] = {}
    for name, (dtype, shape) in tensors.items():
        if "lora_up" in name or "lora_B" in name:
            shape = (8, *shape[1:])
        out[name] = (dtype, shape)
    return out


def llm_lora(path: Path, rank: int = 8, dtype: str = "BF16") -> Path:
    """A PEFT adapter for a llama-style LLM (adapter_model.safetensors)."""
    p = "base_model.model.model.layers.0.self_attn"
    return write_safetensors(
        path,
        {
            f"{p}.q_proj.lora_A.weight": (dtype, (rank, 64)),
            f"{p}.q_proj.lora_B.weight": (dtype, (64, rank)),
            f"{p}.v_proj.lora_A.weight": (dtype, (rank, 64)),
            f"{p}.v_proj.lora_B.weight": (dtype, (64, rank)),
        },
    )


def vae(path: Path, latent: int = 4, dtype: str = "F32", diffusers: bool = False) -> Path:
    if not diffusers:
        return write_safetensors(path, _vae_ldm("", dtype, latent))
    return write_safetensors(path, diffusers_vae_tensors(dtype, latent))


def diffusers_vae_tensors(dtype: str = "F16", latent: int = 4) -> dict[str, TensorSpec]:
    return {
        "encoder.conv_in.weight": (dtype, (8, 3, 3, 3)),
        "encoder.down_blocks.0.resnets.0.conv1.weight": (dtype, (8, 8, 3, 3)),
        "encoder.conv_out.weight": (dtype, (2 * latent, 8, 3, 3)),
        "decoder.conv_in.weight": (dtype, (8, latent, 3, 3)),
        "decoder.up_blocks.0.resnets.0.conv1.weight": (dtype, (8, 8, 3, 3)),
        "quant_conv.weight": (dtype, (2 * latent, 2 * latent, 1, 1)),
        "post_quant_conv.weight": (dtype, (latent, latent, 1, 1)),
    }


def controlnet(path: Path, base: str = "sd15", dtype: str = "F16", diffusers: bool = False) -> Path:
    ctx = CONTEXT_DIM[base]
    if diffusers:
        tensors: dict[str, TensorSpec] = {
            "controlnet_cond_embedding.conv_in.weight": (dtype, (16, 3, 3, 3)),
            "controlnet_down_blocks.0.weight": (dtype, (8, 8, 1, 1)),
            "controlnet_mid_block.weight": (dtype, (8, 8, 1, 1)),
            "down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k.weight": (dtype, (8, ctx)),
            "time_embedding.linear_1.weight": (dtype, (8, 8)),
        }
    else:
        tensors = {
            "control_model.input_hint_block.0.weight": (dtype, (16, 3, 3, 3)),
            "control_model.zero_convs.0.0.weight": (dtype, (8, 8, 1, 1)),
            "control_model.middle_block_out.0.weight": (dtype, (8, 8, 1, 1)),
            "control_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight": (
                dtype,
                (8, ctx),
            ),
            "control_model.time_embed.0.weight": (dtype, (8, 8)),
        }
    return write_safetensors(path, tensors)


def embedding(path: Path, base: str = "sd15", vectors: int = 2, dtype: str = "F32") -> Path:
    """A textual-inversion embedding (A1111 emb_params, or SDXL clip_l/clip_g)."""
    if base == "sdxl":
        return write_safetensors(
            path, {"clip_l": (dtype, (vectors, 768)), "clip_g": (dtype, (vectors, 1280))}
        )
    width = 1024 if base == "sd2" else 768
    return write_safetensors(path, {"emb_params": (dtype, (vectors, width))})


def embedding_pickle(path: Path, base: str = "sd15") -> Path:
    """A1111's .pt embedding: {'string_to_param': {'*': tensor}, 'name': ...}."""
    width = 1024 if base == "sd2" else 768
    out = bytearray(b"\x80\x02}(")  # EMPTY_DICT, MARK
    out += _pickle_str("string_to_token") + b"}" + _pickle_str("*") + _pickle_int(265) + b"s"
    out += _pickle_str("string_to_param") + b"}" + _pickle_str("*")
    out += _global("torch._utils", "_rebuild_tensor_v2")
    out += b"((" + _pickle_str("storage") + _global("torch", "FloatStorage")
    out += _pickle_str("0") + _pickle_str("cpu") + _pickle_int(2 * width) + b"tQ"
    out += _pickle_int(0) + b"(" + _pickle_int(2) + _pickle_int(width) + b"t"
    out += b"(" + _pickle_int(width) + _pickle_int(1) + b"t" + b"\x89"
    out += _global("collections", "OrderedDict") + b")RtRs"
    out += _pickle_str("name") + _pickle_str(path.stem) + _pickle_str("step") + _pickle_int(500)
    out += b"u."
    return write_torch_zip_pickle(path, bytes(out), tensors={"*": ("F32", (2, width))})


def upscaler(path: Path, style: str = "esrgan", dtype: str = "F32") -> Path:
    """ESRGAN (old RRDB layout) or Real-ESRGAN (basicsr layout) weights."""
    if style == "esrgan":
        tensors: dict[str, TensorSpec] = {
            "conv_first.weight": (dtype, (8, 3, 3, 3)),
            "RRDB_trunk.0.RDB1.conv1.weight": (dtype, (4, 8, 3, 3)),
            "RRDB_trunk.0.RDB1.conv5.weight": (dtype, (8, 8, 3, 3)),
            "trunk_conv.weight": (dtype, (8, 8, 3, 3)),
            "upconv1.weight": (dtype, (8, 8, 3, 3)),
            "upconv2.weight": (dtype, (8, 8, 3, 3)),
            "HRconv.weight": (dtype, (8, 8, 3, 3)),
            "conv_last.weight": (dtype, (3, 8, 3, 3)),
        }
    else:
        tensors = {
            "conv_first.weight": (dtype, (8, 3, 3, 3)),
            "body.0.rdb1.conv1.weight": (dtype, (4, 8, 3, 3)),
            "conv_body.weight": (dtype, (8, 8, 3, 3)),
            "conv_up1.weight": (dtype, (8, 8, 3, 3)),
            "conv_up2.weight": (dtype, (8, 8, 3, 3)),
            "conv_hr.weight": (dtype, (8, 8, 3, 3)),
            "conv_last.weight": (dtype, (3, 8, 3, 3)),
        }
    return write_safetensors(path, tensors)


def text_encoder(path: Path, kind: str = "clip_l", dtype: str = "F16") -> Path:
    """A text encoder alone: clip_l, clip_g (HF CLIPTextModel layout) or t5 (T5 encoder)."""
    if kind in ("clip_l", "clip_g"):
        hidden = 768 if kind == "clip_l" else 1280
        tensors = _clip_text("text_model.", hidden, dtype)
        if kind == "clip_g":
            tensors["text_projection.weight"] = (dtype, (8, 1280))
        return write_safetensors(path, tensors)
    if kind == "t5":
        return write_safetensors(
            path,
            {
                "shared.weight": (dtype, (32, 4096)),
                "encoder.block.0.layer.0.SelfAttention.q.weight": (dtype, (8, 4096)),
                "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight": (
                    dtype,
                    (32, 64),
                ),
                "encoder.block.0.layer.1.DenseReluDense.wi_0.weight": (dtype, (8, 4096)),
                "encoder.final_layer_norm.weight": (dtype, (4096,)),
            },
        )
    raise ValueError(f"unknown text encoder kind {kind!r}")


def clip_vision(path: Path, hidden: int = 1280, dtype: str = "F16") -> Path:
    """A CLIP vision tower (HF CLIPVisionModelWithProjection layout)."""
    return write_safetensors(
        path,
        {
            "vision_model.embeddings.patch_embedding.weight": (dtype, (hidden, 3, 2, 2)),
            "vision_model.embeddings.class_embedding": (dtype, (hidden,)),
            "vision_model.encoder.layers.0.self_attn.q_proj.weight": (dtype, (8, hidden)),
            "vision_model.post_layernorm.weight": (dtype, (hidden,)),
            "visual_projection.weight": (dtype, (8, hidden)),
        },
    )


def llm_tensors(
    arch: str = "llama", layers: int = 2, hidden: int = 64, dtype: str = "BF16"
) -> dict[str, TensorSpec]:
    """HF transformers tensor names for llama, mistral, qwen2, qwen3, gemma2, phi3."""
    t: dict[str, TensorSpec] = {"model.embed_tokens.weight": (dtype, (128, hidden))}
    for i in range(layers):
        p = f"model.layers.{i}"
        t[f"{p}.input_layernorm.weight"] = (dtype, (hidden,))
        t[f"{p}.post_attention_layernorm.weight"] = (dtype, (hidden,))
        if arch == "phi3":
            t[f"{p}.self_attn.qkv_proj.weight"] = (dtype, (3 * hidden, hidden))
            t[f"{p}.mlp.gate_up_proj.weight"] = (dtype, (2 * hidden, hidden))
        else:
            for proj in ("q_proj", "k_proj", "v_proj"):
                t[f"{p}.self_attn.{proj}.weight"] = (dtype, (hidden, hidden))
                if arch == "qwen2":
                    t[f"{p}.self_attn.{proj}.bias"] = (dtype, (hidden,))
            for proj in ("gate_proj", "up_proj"):
                t[f"{p}.mlp.{proj}.weight"] = (dtype, (2 * hidden, hidden))
        if arch in ("qwen3", "gemma3"):
            t[f"{p}.self_attn.q_norm.weight"] = (dtype, (16,))
            t[f"{p}.self_attn.k_norm.weight"] = (dtype, (16,))
        if arch in ("gemma2", "gemma3"):
            t[f"{p}.pre_feedforward_layernorm.weight"] = (dtype, (hidden,))
            t[f"{p}.post_feedforward_layernorm.weight"] = (dtype, (hidden,))
        t[f"{p}.self_attn.o_proj.weight"] = (dtype, (hidden, hidden))
        t[f"{p}.mlp.down_proj.weight"] = (dtype, (hidden, 2 * hidden))
    t["model.norm.weight"] = (dtype, (hidden,))
    if arch not in ("gemma2", "gemma3"):  # gemma ties the output head to the embeddings
        t["lm_head.weight"] = (dtype, (128, hidden))
    return t


def llm_safetensors(path: Path, arch: str = "llama", dtype: str = "BF16", **kwargs: Any) -> Path:
    return write_safetensors(path, llm_tensors(arch, dtype=dtype, **kwargs))


def llm_gguf(path: Path, arch: str = "llama", file_type: str = "Q4_K_M", **kwargs: Any) -> Path:
    return write_gguf(path, arch=arch, file_type=file_type, **kwargs)


# -- multi-file models --------------------------------------------------------


def make_shard_set(
    folder: Path,
    base: str = "model",
    n: int = 3,
    *,
    ext: str = "safetensors",
    tensors: Mapping[str, TensorSpec] | None = None,
    missing: Iterable[int] = (),
    index: bool = True,
    digits: int = 5,
    arch: str = "llama",
) -> list[Path]:
    """`base-0000k-of-0000n.ext` shards (+ `base.ext.index.json` for safetensors).

    The tensors (default: a small llama) are dealt round-robin over the shards.
    Shard numbers in `missing` (1-based) are not written but stay in the index.
    For ext='gguf' each shard is a GGUF split with split.* keys.
    """
    folder.mkdir(parents=True, exist_ok=True)
    all_tensors = dict(tensors or llm_tensors("llama", layers=max(2, n)))
    names = [f"{base}-{k:0{digits}d}-of-{n:0{digits}d}.{ext}" for k in range(1, n + 1)]
    buckets: list[dict[str, TensorSpec]] = [{} for _ in range(n)]
    for i, (name, spec) in enumerate(all_tensors.items()):
        buckets[i % n][name] = spec
    skip = set(missing)
    written = []
    for k, (name, bucket) in enumerate(zip(names, buckets, strict=True), start=1):
        if k in skip:
            continue
        path = folder / name
        if ext == "gguf":
            split_kv = {
                "split.no": ("u16", k - 1),
                "split.count": ("u16", n),
                "split.tensors.count": ("i32", len(all_tensors)),
            }
            write_gguf(
                path,
                arch=arch,
                name=f"Sharded {arch}" if k == 1 else None,
                file_type="Q4_K_M",
                extra_kv=split_kv,
                tensors={t: ("F32", shape) for t, (_d, shape) in bucket.items()},
            )
        else:
            write_safetensors(path, bucket)
        written.append(path)
    if index and ext != "gguf":
        weight_map = {t: names[i % n] for i, t in enumerate(all_tensors)}
        total = sum(math.prod(s) * SAFETENSORS_BITS[d] // 8 for d, s in all_tensors.values())
        (folder / f"{base}.{ext}.index.json").write_text(
            json.dumps({"metadata": {"total_size": total}, "weight_map": weight_map}, indent=2)
        )
    return written


DIFFUSERS_PIPELINES = {
    "sd15": ("StableDiffusionPipeline", "unet", 768),
    "sd2": ("StableDiffusionPipeline", "unet", 1024),
    "sdxl": ("StableDiffusionXLPipeline", "unet", 2048),
    "sd3": ("StableDiffusion3Pipeline", "transformer", 4096),
    "flux": ("FluxPipeline", "transformer", 4096),
}


def make_diffusers_folder(
    path: Path,
    family: str = "sd15",
    *,
    dtype: str = "F16",
    weights: str = "safetensors",
    extra_files: Mapping[str, bytes] | None = None,
) -> Path:
    """A diffusers pipeline folder: model_index.json + component subfolders.

    weights: 'safetensors', or 'bin' (torch zip pickles, benign).
    """
    pipeline, denoiser, ctx = DIFFUSERS_PIPELINES[family]
    path.mkdir(parents=True, exist_ok=True)
    components: dict[str, list[str]] = {
        "scheduler": ["diffusers", "EulerDiscreteScheduler"],
        "text_encoder": ["transformers", "CLIPTextModel"],
        "tokenizer": ["transformers", "CLIPTokenizer"],
        "vae": ["diffusers", "AutoencoderKL"],
        denoiser: [
            "diffusers",
            "UNet2DConditionModel" if denoiser == "unet" else "FluxTransformer2DModel",
        ],
    }
    if family == "sdxl":
        components["text_encoder_2"] = ["transformers", "CLIPTextModelWithProjection"]
        components["tokenizer_2"] = ["transformers", "CLIPTokenizer"]
    if family in ("flux", "sd3"):
        components["text_encoder_2"] = ["transformers", "T5EncoderModel"]
        components["tokenizer_2"] = ["transformers", "T5TokenizerFast"]
        components[denoiser][1] = (
            "FluxTransformer2DModel" if family == "flux" else "SD3Transformer2DModel"
        )
    index = {"_class_name": pipeline, "_diffusers_version": "0.30.0", **components}
    (path / "model_index.json").write_text(json.dumps(index, indent=2))

    def weights_file(folder: str, stem: str, tensors: dict[str, TensorSpec]) -> None:
        if weights == "bin":
            storage = {"F16": "HalfStorage", "BF16": "BFloat16Storage", "F32": "FloatStorage"}[
                dtype
            ]
            write_torch_zip_pickle(path / folder / f"{stem}.bin", tensors=tensors, storage=storage)
        else:
            write_safetensors(path / folder / f"{stem}.safetensors", tensors)

    (path / "scheduler").mkdir(exist_ok=True)
    (path / "scheduler" / "scheduler_config.json").write_text(
        json.dumps({"_class_name": "EulerDiscreteScheduler"})
    )
    for tok in ("tokenizer", "tokenizer_2") if "tokenizer_2" in components else ("tokenizer",):
        (path / tok).mkdir(exist_ok=True)
        (path / tok / "vocab.json").write_text('{"a": 0}')
        (path / tok / "merges.txt").write_text("#version: 0.2\n")
    (path / "text_encoder").mkdir(exist_ok=True)
    (path / "text_encoder" / "config.json").write_text(
        json.dumps({"architectures": ["CLIPTextModel"], "hidden_size": 768})
    )
    weights_file("text_encoder", "model", _clip_text("text_model.", 768, dtype))
    if "text_encoder_2" in components:
        (path / "text_encoder_2").mkdir(exist_ok=True)
        (path / "text_encoder_2" / "config.json").write_text(
            json.dumps({"architectures": [components["text_encoder_2"][1]]})
        )
        if family == "sdxl":
            weights_file("text_encoder_2", "model", _clip_text("text_model.", 1280, dtype))
        else:
            weights_file(
                "text_encoder_2",
                "model",
                {
                    "shared.weight": (dtype, (32, 4096)),
                    "encoder.block.0.layer.0.SelfAttention.q.weight": (dtype, (8, 4096)),
                },
            )
    (path / "vae").mkdir(exist_ok=True)
    latent = 16 if family in ("flux", "sd3") else 4
    (path / "vae" / "config.json").write_text(
        json.dumps({"_class_name": "AutoencoderKL", "latent_channels": latent})
    )
    weights_file("vae", "diffusion_pytorch_model", diffusers_vae_tensors(dtype, latent))
    (path / denoiser).mkdir(exist_ok=True)
    if denoiser == "unet":
        config = {"_class_name": "UNet2DConditionModel", "cross_attention_dim": ctx}
        tensors = {
            "conv_in.weight": (dtype, (8, 4, 3, 3)),
            "time_embedding.linear_1.weight": (dtype, (8, 8)),
            "down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k.weight": (dtype, (8, ctx)),
            "mid_block.resnets.0.conv1.weight": (dtype, (8, 8, 3, 3)),
            "up_blocks.0.resnets.0.conv1.weight": (dtype, (8, 8, 3, 3)),
        }
    else:
        config = {"_class_name": components[denoiser][1], "joint_attention_dim": ctx}
        tensors = {
            "x_embedder.weight": (dtype, (8, 64)),
            "context_embedder.weight": (dtype, (8, ctx)),
            "transformer_blocks.0.attn.add_k_proj.weight": (dtype, (8, 8)),
        }
        if family == "flux":
            tensors["single_transformer_blocks.0.attn.to_k.weight"] = (dtype, (8, 8))
        else:
            tensors["pos_embed.proj.weight"] = (dtype, (8, 16, 2, 2))
    (path / denoiser / "config.json").write_text(json.dumps(config))
    weights_file(denoiser, "diffusion_pytorch_model", tensors)
    for rel, data in (extra_files or {}).items():
        target = path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return path


# -- hostile and non-model bytes ----------------------------------------------

HTML_PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body>Please log in</body></html>\n"
)
LFS_POINTER = (
    b"version https://git-lfs.github.com/spec/v1\n"
    b"oid sha256:4c1b0bd1e8b2f0e5d1f1f7a5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5\n"
    b"size 6938078334\n"
)


def zip_bomb(path: Path, member: str = "archive/data.pkl", size: int = 2**28) -> Path:
    """A zip whose one member inflates from ~256 KB to `size` bytes of zeros (default 256 MiB)."""
    compressor_input = io.BytesIO()
    with (
        zipfile.ZipFile(compressor_input, "w", zipfile.ZIP_DEFLATED) as zf,
        zf.open(member, "w", force_zip64=True) as dst,
    ):
        chunk = b"\0" * (1 << 20)
        for _ in range(size // len(chunk)):
            dst.write(chunk)
    path.write_bytes(compressor_input.getvalue())
    return path


def many_entry_zip(path: Path, entries: int = 10_000, with_pickle: bool = True) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        if with_pickle:
            zf.writestr("archive/data.pkl", benign_state_dict_pickle({"w": ("F16", (2,))}))
        for i in range(entries):
            zf.writestr(f"archive/data/{i}", b"\0" * 4)  # data.pkl refers to "0" only
    return path


# -- the labelled corpus ------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    """What identification must say about one corpus entry."""

    rel: str  # the file or folder, relative to the corpus root
    format: str
    model_type: str
    family: str
    precision: str | None = None
    quant: str | None = None
    files: int = 1  # files in the unit (weights + companions)


def build_corpus(root: Path) -> list[Expected]:
    """Write one realistic tiny model of every type and format under `root`.

    Names are the ones users really drop; where a label can only come from the
    name or metadata (a 4-channel VAE, a LyCORIS LoKr without text-encoder
    keys), the entry says so through its name or metadata.
    """
    root.mkdir(parents=True, exist_ok=True)
    e: list[Expected] = []

    def add(rel: str, fmt: str, model_type: str, family: str, precision=None, quant=None, files=1):
        e.append(Expected(rel, fmt, model_type, family, precision, quant, files))

    sd15_checkpoint(root / "dreamshaper_8.safetensors")
    (root / "dreamshaper_8.preview.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 32)
    (root / "dreamshaper_8.civitai.info").write_text('{"modelId": 4384}')
    add("dreamshaper_8.safetensors", "safetensors", "checkpoint", "sd15", "fp16", files=3)
    sd2_checkpoint(root / "v2-1_768-ema-pruned.safetensors")
    add("v2-1_768-ema-pruned.safetensors", "safetensors", "checkpoint", "sd2", "fp16")
    sdxl_checkpoint(root / "juggernautXL_v9.safetensors", dtype="BF16")
    (root / "juggernautXL_v9.yaml").write_text(
        "model:\n  target: sgm.models.diffusion.DiffusionEngine\n"
    )
    add("juggernautXL_v9.safetensors", "safetensors", "checkpoint", "sdxl", "bf16", files=2)
    sd3_checkpoint(root / "sd3_medium_incl_clips.safetensors")
    add("sd3_medium_incl_clips.safetensors", "safetensors", "checkpoint", "sd3", "fp16")
    flux_checkpoint(root / "flux1-dev-fp8.safetensors")
    add("flux1-dev-fp8.safetensors", "safetensors", "checkpoint", "flux", "fp8")
    sd15_checkpoint_pickle(root / "v1-5-pruned-emaonly.ckpt")
    add("v1-5-pruned-emaonly.ckpt", "pickle", "checkpoint", "sd15", "fp16")

    flux_transformer(root / "flux1-schnell.safetensors")
    add("flux1-schnell.safetensors", "safetensors", "diffusion_model", "flux", "bf16")
    unet_only(root / "sdxl_unet_only.safetensors", "sdxl")
    add("sdxl_unet_only.safetensors", "safetensors", "diffusion_model", "sdxl", "fp16")
    write_gguf(
        root / "flux1-dev-Q4_0.gguf",
        "flux",
        "flux1-dev",
        "Q4_0",
        tensors={
            "double_blocks.0.img_attn.qkv.weight": ("Q4_0", (64, 8)),
            "single_blocks.0.linear1.weight": ("Q4_0", (64, 8)),
        },
    )
    add("flux1-dev-Q4_0.gguf", "gguf", "diffusion_model", "flux", None, "Q4_0")

    lora(root / "add_detail.safetensors", "sd15", metadata={"ss_network_module": "networks.lora"})
    add("add_detail.safetensors", "safetensors", "lora", "sd15", "fp16")
    lora(root / "v2_style.safetensors", "sd2")
    add("v2_style.safetensors", "safetensors", "lora", "sd2", "fp16")
    lora(root / "xl_more_art-full.safetensors", "sdxl")
    add("xl_more_art-full.safetensors", "safetensors", "lora", "sdxl", "fp16")
    lora(root / "locon_character.safetensors", "sd15", "locon")
    add("locon_character.safetensors", "safetensors", "lora", "sd15", "fp16")
    lora(root / "loha_texture.safetensors", "sdxl", "loha")
    add("loha_texture.safetensors", "safetensors", "lora", "sdxl", "fp16")
    lora(
        root / "lokr_pose.safetensors", "sd15", "lokr", metadata={"ss_base_model_version": "sd_v1"}
    )
    add("lokr_pose.safetensors", "safetensors", "lora", "sd15", "fp16")
    lora(root / "flux_realism_lora.safetensors", "flux", dtype="BF16")
    add("flux_realism_lora.safetensors", "safetensors", "lora", "flux", "bf16")
    lora(root / "pytorch_lora_weights.safetensors", "flux", "peft")
    add("pytorch_lora_weights.safetensors", "safetensors", "lora", "flux", "fp16")

    vae(root / "sdxl_vae.safetensors", dtype="F16")
    add("sdxl_vae.safetensors", "safetensors", "vae", "sdxl", "fp16")
    vae(root / "flux_ae.safetensors", latent=16, dtype="BF16")
    add("flux_ae.safetensors", "safetensors", "vae", "flux", "bf16")
    vae(root / "vae-ft-mse-840000-ema-pruned.safetensors", diffusers=True, dtype="F32")
    add("vae-ft-mse-840000-ema-pruned.safetensors", "safetensors", "vae", "unknown", "fp32")

    controlnet(root / "control_v11p_sd15_canny.safetensors", "sd15")
    add("control_v11p_sd15_canny.safetensors", "safetensors", "controlnet", "sd15", "fp16")
    controlnet(root / "diffusion_pytorch_model_xl_depth.safetensors", "sdxl", diffusers=True)
    add("diffusion_pytorch_model_xl_depth.safetensors", "safetensors", "controlnet", "sdxl", "fp16")

    embedding(root / "EasyNegative.safetensors", "sd15")
    add("EasyNegative.safetensors", "safetensors", "embedding", "sd15", "fp32")
    embedding(root / "negativeXL_D.safetensors", "sdxl")
    add("negativeXL_D.safetensors", "safetensors", "embedding", "sdxl", "fp32")
    embedding_pickle(root / "bad-hands-5.pt")
    add("bad-hands-5.pt", "pickle", "embedding", "unknown", "fp32")

    upscaler(root / "4x-UltraSharp.safetensors")
    add("4x-UltraSharp.safetensors", "safetensors", "upscaler", "esrgan", "fp32")
    write_torch_zip_pickle(
        root / "4x_foolhardy_Remacri.pth",
        tensors={
            "conv_first.weight": ("F32", (8, 3, 3, 3)),
            "RRDB_trunk.0.RDB1.conv1.weight": ("F32", (4, 8, 3, 3)),
            "trunk_conv.weight": ("F32", (8, 8, 3, 3)),
            "conv_last.weight": ("F32", (3, 8, 3, 3)),
        },
        storage="FloatStorage",
    )
    add("4x_foolhardy_Remacri.pth", "pickle", "upscaler", "esrgan", "fp32")
    upscaler(root / "RealESRGAN_x4plus.safetensors", "real", dtype="F16")
    add("RealESRGAN_x4plus.safetensors", "safetensors", "upscaler", "esrgan", "fp16")
    write_onnx(root / "4x_esrgan_upscaler.onnx")
    add("4x_esrgan_upscaler.onnx", "onnx", "upscaler", "unknown")

    text_encoder(root / "clip_l.safetensors", "clip_l")
    add("clip_l.safetensors", "safetensors", "text_encoder", "clip_l", "fp16")
    text_encoder(root / "clip_g.safetensors", "clip_g")
    add("clip_g.safetensors", "safetensors", "text_encoder", "clip_g", "fp16")
    text_encoder(root / "t5xxl_fp8_e4m3fn.safetensors", "t5", dtype="F8_E4M3")
    add("t5xxl_fp8_e4m3fn.safetensors", "safetensors", "text_encoder", "t5", "fp8")
    write_gguf(
        root / "t5-v1_1-xxl-encoder-Q5_K_M.gguf",
        "t5encoder",
        "T5 XXL encoder",
        "Q5_K_M",
        tensors={"enc.blk.0.attn_q.weight": ("Q5_K", (256, 8))},
    )
    add("t5-v1_1-xxl-encoder-Q5_K_M.gguf", "gguf", "text_encoder", "t5", None, "Q5_K_M")

    clip_vision(root / "CLIP-ViT-H-14-laion2B-s32B-b79K.safetensors", 1280)
    add(
        "CLIP-ViT-H-14-laion2B-s32B-b79K.safetensors",
        "safetensors",
        "clip_vision",
        "clip_vit_h",
        "fp16",
    )
    write_gguf(
        root / "mmproj-model-f16.gguf",
        "clip",
        "CLIP vision",
        "F16",
        extra_kv={"clip.has_vision_encoder": True},
        tensors={"v.blk.0.attn_q.weight": ("F16", (64, 64))},
    )
    add("mmproj-model-f16.gguf", "gguf", "clip_vision", "clip", "fp16")

    llm_gguf(root / "Meta-Llama-3-8B-Instruct.Q4_K_M.gguf", "llama", "Q4_K_M", vocab=2000)
    add("Meta-Llama-3-8B-Instruct.Q4_K_M.gguf", "gguf", "llm", "llama", None, "Q4_K_M")
    llm_gguf(
        root / "mistral-7b-instruct-v0.2.Q5_K_M.gguf",
        "llama",
        "Q5_K_M",
        name="Mistral 7B Instruct v0.2",
    )
    add("mistral-7b-instruct-v0.2.Q5_K_M.gguf", "gguf", "llm", "mistral", None, "Q5_K_M")
    llm_gguf(root / "qwen2.5-7b-instruct-q8_0.gguf", "qwen2", "Q8_0", name="Qwen2.5 7B Instruct")
    add("qwen2.5-7b-instruct-q8_0.gguf", "gguf", "llm", "qwen", None, "Q8_0")
    llm_gguf(
        root / "gemma-2-9b-it-IQ3_XS.gguf", "gemma2", "IQ3_XS", name="Gemma 2 9b It", version=2
    )
    add("gemma-2-9b-it-IQ3_XS.gguf", "gguf", "llm", "gemma", None, "IQ3_XS")
    llm_gguf(root / "Phi-3-mini-4k-instruct-fp16.gguf", "phi3", "F16", name="Phi 3 Mini")
    add("Phi-3-mini-4k-instruct-fp16.gguf", "gguf", "llm", "phi", "fp16")
    llm_safetensors(root / "qwen3-0.6b.safetensors", "qwen3")
    add("qwen3-0.6b.safetensors", "safetensors", "llm", "qwen", "bf16")
    llm_safetensors(root / "gemma-2-2b.safetensors", "gemma2")
    add("gemma-2-2b.safetensors", "safetensors", "llm", "gemma", "bf16")
    llm_safetensors(root / "phi-3-mini.safetensors", "phi3", dtype="F16")
    add("phi-3-mini.safetensors", "safetensors", "llm", "phi", "fp16")
    llm_safetensors(root / "Mistral-7B-v0.1.safetensors", "llama")
    add("Mistral-7B-v0.1.safetensors", "safetensors", "llm", "mistral", "bf16")

    shard_dir = root / "Meta-Llama-3-8B"
    make_shard_set(shard_dir, n=3)
    (shard_dir / "config.json").write_text(
        json.dumps({"model_type": "llama", "architectures": ["LlamaForCausalLM"]})
    )
    (shard_dir / "tokenizer.json").write_text('{"version": "1.0"}')
    add("Meta-Llama-3-8B", "safetensors", "llm", "llama", "bf16", files=6)
    make_shard_set(
        root / "Qwen2.5-14B-GGUF", base="qwen2.5-14b-instruct-q4_k_m", n=2, ext="gguf", arch="qwen2"
    )
    add("Qwen2.5-14B-GGUF", "gguf", "llm", "qwen", None, "Q4_K_M", files=2)

    make_diffusers_folder(root / "stable-diffusion-v1-5", "sd15")
    add("stable-diffusion-v1-5", "diffusers", "diffusers", "sd15", "fp16", files=10)
    make_diffusers_folder(root / "stable-diffusion-2-1", "sd2", dtype="F32")
    add("stable-diffusion-2-1", "diffusers", "diffusers", "sd2", "fp32", files=10)
    make_diffusers_folder(root / "sdxl-base-1.0", "sdxl")
    add("sdxl-base-1.0", "diffusers", "diffusers", "sdxl", "fp16", files=14)
    make_diffusers_folder(root / "FLUX.1-schnell", "flux", dtype="BF16", weights="bin")
    add("FLUX.1-schnell", "diffusers", "diffusers", "flux", "bf16", files=14)
    return e


# -- the hostile corpus ---------------------------------------------------------------


@dataclass(frozen=True)
class Hostile:
    """A bad input and how it must end: never imported, always with a specific reason."""

    key: str
    path: Path  # what to hand to the planner (a file, link or folder)
    outcome: str  # problem (planning refuses it) | refused | dangerous
    reason: str  # a substring of the reason
    retry: bool = False


def _gguf_head(version: int = 3, tensors: int = 0, kvs: int = 0) -> bytes:
    return b"GGUF" + struct.pack("<IQQ", version, tensors, kvs)


def build_hostile(drop: Path, outside: Path, marker: Path) -> list[Hostile]:
    """Write at least 25 hostile inputs into `drop` (and link targets into `outside`).

    The dangerous pickles would create `marker` if ever loaded.
    """
    drop.mkdir(parents=True, exist_ok=True)
    outside.mkdir(parents=True, exist_ok=True)
    h: list[Hostile] = []

    def raw(name: str, data: bytes, outcome: str, reason: str, retry: bool = False) -> None:
        (drop / name).write_bytes(data)
        h.append(Hostile(name, drop / name, outcome, reason, retry))

    header = b'{"w":{"dtype":"F32","shape":[1000],"data_offsets":[0,4000]}}'
    raw(
        "st-truncated-header.safetensors",
        struct.pack("<Q", 1000) + header[:40],
        "refused",
        "cut short",
        True,
    )
    raw(
        "st-length-2-63.safetensors", struct.pack("<Q", 2**63) + b"{}" + bytes(64), "refused", "cap"
    )
    raw(
        "st-offsets-past-eof.safetensors",
        struct.pack("<Q", len(header)) + header + bytes(10),
        "refused",
        "truncated",
        True,
    )
    overlap = (
        b'{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},'
        b'"b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}}'
    )
    raw(
        "st-overlapping.safetensors",
        struct.pack("<Q", len(overlap)) + overlap + bytes(6),
        "refused",
        "overlaps",
    )
    nested = b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    raw(
        "st-nested.safetensors",
        struct.pack("<Q", len(nested)) + nested,
        "refused",
        "nested too deeply",
    )
    raw("gguf-kv-count.gguf", _gguf_head(kvs=2**62) + bytes(64), "refused", "key/value pairs")
    raw(
        "gguf-tensor-count.gguf",
        _gguf_head(tensors=2**61) + bytes(64),
        "refused",
        "tensors, more than",
    )
    raw(
        "gguf-truncated-string.gguf",
        _gguf_head(kvs=1) + gguf_string("general.name") + struct.pack("<IQ", 8, 64) + b"Llama 3",
        "refused",
        "cut short",
        True,
    )
    raw(
        "gguf-key-2-63.gguf",
        _gguf_head(kvs=1) + struct.pack("<Q", 2**63) + bytes(64),
        "refused",
        "GGUF key of 9223372036854775808 bytes",
    )
    raw(
        "gguf-array-2-40.gguf",
        _gguf_head(kvs=1)
        + gguf_string("tokenizer.ggml.tokens")
        + struct.pack("<IIQ", 9, 8, 2**40)
        + bytes(64),
        "refused",
        "items, more than",
    )
    raw("gguf-v1.gguf", _gguf_head(version=1) + bytes(64), "refused", "version 1")
    write_gguf(drop / "gguf-data-past-eof.gguf")
    with open(drop / "gguf-data-past-eof.gguf", "r+b") as handle:
        handle.truncate(handle.seek(0, 2) - 100)
    h.append(
        Hostile(
            "gguf-data-past-eof.gguf",
            drop / "gguf-data-past-eof.gguf",
            "refused",
            "truncated",
            True,
        )
    )
    raw("legacy.bin", b"lmgg" + bytes(100), "refused", "legacy GGML")
    raw("page.safetensors", HTML_PAGE, "refused", "HTML page")
    raw("pointer.safetensors", LFS_POINTER, "refused", "Git LFS pointer")
    raw("empty.safetensors", b"", "refused", "empty file")
    raw(
        "binbytes8.pt",
        b"\x80\x04\x8e" + struct.pack("<Q", 2**62) + bytes(16),
        "refused",
        "in a bytes8",
    )
    data = onnx_model_bytes()
    raw("cut.onnx", data[:-10], "refused", "cut short", True)

    zip_bomb(drop / "bomb.ckpt")
    h.append(Hostile("bomb.ckpt", drop / "bomb.ckpt", "refused", "zip bomb"))
    # torch ignores members data.pkl does not name; one of 10,000 hides a pickle
    many_entry_zip(drop / "many-entries.pt", 10_000)
    with zipfile.ZipFile(drop / "many-entries.pt", "a") as zf:
        zf.writestr("archive/data/hidden", dangerous_pickle("os.system", marker))
    h.append(Hostile("many-entries.pt", drop / "many-entries.pt", "dangerous", "os.system"))
    write_torch_zip_pickle(drop / "overlap.pt")
    blob = bytearray((drop / "overlap.pt").read_bytes())
    second = blob.find(b"PK\x01\x02", blob.find(b"PK\x01\x02") + 4)
    blob[second + 42 : second + 46] = struct.pack("<I", 0)
    (drop / "overlap.pt").write_bytes(bytes(blob))
    h.append(Hostile("overlap.pt", drop / "overlap.pt", "refused", "overlap"))
    write_torch_zip_pickle(drop / "cut-zip.ckpt")
    with open(drop / "cut-zip.ckpt", "r+b") as handle:
        handle.truncate(handle.seek(0, 2) - 30)
    h.append(Hostile("cut-zip.ckpt", drop / "cut-zip.ckpt", "refused", "end record", True))

    script = outside / "payload.py"
    for name, kind in (
        ("evil-system.ckpt", "os.system"),
        ("evil-exec.pt", "builtins.exec"),
        ("evil-popen.bin", "subprocess.Popen"),
        ("evil-runpy.pth", "runpy.run_path"),
    ):
        if name.endswith(".ckpt"):
            write_torch_zip_pickle(drop / name, kind, marker=marker, script=script)
        else:
            write_raw_pickle(drop / name, dangerous_pickle(kind, marker, script))
        h.append(Hostile(name, drop / name, "dangerous", kind))

    os.mkfifo(drop / "fifo.safetensors")
    h.append(Hostile("fifo.safetensors", drop / "fifo.safetensors", "problem", "FIFO"))
    try:
        os.mknod(drop / "device.gguf", stat.S_IFCHR | 0o600, os.makedev(1, 3))
        h.append(Hostile("device.gguf", drop / "device.gguf", "problem", "character device"))
    except PermissionError:
        pass  # not root: the FIFO stands in for special files
    lora(outside / "target.safetensors")
    (drop / "escape.safetensors").symlink_to(outside / "target.safetensors")
    h.append(Hostile("escape.safetensors", drop / "escape.safetensors", "problem", "outside"))
    (drop / "dangling.safetensors").symlink_to(drop / "no-such-file")
    h.append(Hostile("dangling.safetensors", drop / "dangling.safetensors", "problem", "dangling"))
    # names (a newline, bytes that are not UTF-8) are no longer hostile: the
    # contract imports them; tests/ingest/test_names.py holds those cases
    folder = make_diffusers_folder(drop / "diffusers-escape", "sd15")
    (folder / "unet" / "extra.safetensors").symlink_to(outside / "target.safetensors")
    h.append(Hostile("diffusers-escape", folder, "problem", "outside"))
    make_shard_set(drop / "incomplete", n=3, missing=[2])
    h.append(Hostile("incomplete-shards", drop / "incomplete", "problem", "missing 2", True))
    return h


# -- raw GGUF headers (hostile and edge-case layouts) -----------------------------------


def gguf_kv(key: str | bytes, value: Any, kind: str | None = None) -> bytes:
    """One key/value record; `kind` forces the value type ('u64', 'i32', ...)."""
    type_id, encoded = gguf_value(value, kind)
    return gguf_string(key) + struct.pack("<I", type_id) + encoded


def gguf_tensor_info(
    name: str, dims: Sequence[int], ggml_type: int = 0, offset: int = 0, n_dims: int | None = None
) -> bytes:
    """One tensor info record; `n_dims` may claim more dims than `dims` holds."""
    count = len(dims) if n_dims is None else n_dims
    body = gguf_string(name) + struct.pack("<I", count)
    body += b"".join(struct.pack("<Q", d) for d in dims)
    return body + struct.pack("<IQ", ggml_type, offset)


def raw_gguf(
    kvs: Sequence[bytes] = (), tensors: Sequence[bytes] = (), tail: bytes = b"", version: int = 3
) -> bytes:
    """A GGUF header from raw records, counts matching, then `tail` as is."""
    head = b"GGUF" + struct.pack("<IQQ", version, len(tensors), len(kvs))
    return head + b"".join(kvs) + b"".join(tensors) + tail


def build_hostile_gguf(drop: Path) -> list[Hostile]:
    """GGUF headers from this year's advisories against llama.cpp and gguf-py.

    Each must be refused quickly, without allocating what it claims, with a
    reason naming the broken rule.
    """
    drop.mkdir(parents=True, exist_ok=True)
    f32, f64 = 0, 28
    pad = bytes(256)
    cases = [
        ("gguf-5-dims", raw_gguf(tensors=[gguf_tensor_info("t", (1,) * 5)]), "5 dimensions"),
        (
            "gguf-n-dims-2-32",
            raw_gguf(tensors=[gguf_tensor_info("t", (), n_dims=2**32 - 1)], tail=pad),
            "4294967295 dimensions",
        ),
        (
            "gguf-elements-overflow",
            raw_gguf(tensors=[gguf_tensor_info("t", (2**32, 2**32, 2, 1))], tail=pad),
            "more elements than int64 can count",
        ),
        (
            "gguf-dim-2-63",
            raw_gguf(tensors=[gguf_tensor_info("t", (2**63,))], tail=pad),
            "negative as int64",
        ),
        (
            "gguf-bytes-overflow",
            raw_gguf(tensors=[gguf_tensor_info("t", (2**31, 2**31), f64)], tail=pad),
            "size in bytes overflows 64 bits",
        ),
        (
            "gguf-data-section-overflow",
            raw_gguf(
                tensors=[
                    gguf_tensor_info("a", (2**30, 2**30), f64),
                    gguf_tensor_info("b", (2**30, 2**30), f64, offset=2**63),
                ],
                tail=pad,
            ),
            "data section overflows 64 bits",
        ),
        (
            "gguf-alignment-0",
            raw_gguf([gguf_kv("general.alignment", 0, "u32")], tail=pad),
            "alignment 0 is not a power of two",
        ),
        (
            "gguf-alignment-48",
            raw_gguf([gguf_kv("general.alignment", 48, "u32")], tail=pad),
            "alignment 48 is not a power of two",
        ),
        (
            "gguf-alignment-2-31",
            raw_gguf([gguf_kv("general.alignment", 2**31, "u32")], tail=pad),
            "over the 1 MiB limit",
        ),
        (
            "gguf-alignment-u64",
            raw_gguf([gguf_kv("general.alignment", 32, "u64")], tail=pad),
            "not u32",
        ),
        (
            "gguf-overlapping-tensors",
            raw_gguf(
                tensors=[gguf_tensor_info("a", (64,), f32), gguf_tensor_info("b", (64,), f32)],
                tail=bytes(1024),
            ),
            "overlaps the tensors before it",
        ),
        (
            "gguf-offset-2-63",
            raw_gguf(tensors=[gguf_tensor_info("a", (8,), f32, offset=2**63)], tail=pad),
            "leaves a gap",
        ),
        (
            "gguf-string-2-63",
            raw_gguf([gguf_string("general.name") + struct.pack("<IQ", 8, 2**63)], tail=pad),
            "over ggml's 1 GiB limit",
        ),
        (
            "gguf-array-2-63",
            raw_gguf([gguf_string("general.tags") + struct.pack("<IIQ", 9, 0, 2**63)], tail=pad),
            "more than ggml's limit",
        ),
        (
            "gguf-vocab-string-2-63",
            raw_gguf(
                [
                    gguf_string("tokenizer.ggml.tokens")
                    + struct.pack("<IIQ", 9, 8, 2)
                    + gguf_string("a")
                    + struct.pack("<Q", 2**63)
                ],
                tail=pad,
            ),
            "claims 9223372036854775808 bytes",
        ),
    ]
    hostile = []
    for key, data, reason in cases:
        path = drop / f"{key}.gguf"
        path.write_bytes(data)
        hostile.append(Hostile(key, path, "refused", reason))
    return hostile


def build_hostile_safetensors(drop: Path) -> list[Hostile]:
    """safetensors headers whose numbers overflow the reference reader's usize."""
    drop.mkdir(parents=True, exist_ok=True)
    cases = [
        ("st-shape-overflow", [2**40, 2**40, 0], [0, 0], "element count overflows 64 bits"),
        ("st-bits-overflow", [2**62], [0, 2**63], "size in bits overflows 64 bits"),
        ("st-offset-2-64", [1], [2**64, 2**64 + 1], "non-negative integers below 2^64"),
    ]
    hostile = []
    for key, shape, offsets, reason in cases:
        header = json.dumps({"w": {"dtype": "F64", "shape": shape, "data_offsets": offsets}})
        path = drop / f"{key}.safetensors"
        path.write_bytes(struct.pack("<Q", len(header)) + header.encode() + bytes(8))
        hostile.append(Hostile(key, path, "refused", reason))
    return hostile
