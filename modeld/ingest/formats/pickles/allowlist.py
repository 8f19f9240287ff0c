"""The globals a pickle may import and still be imported: what the major loaders allow.

A pickle is data only as long as every global it names is a constructor of
plain data (tensors, storages, dtypes, containers). The list below is the
union of what three loaders that users rely on accept, so modeld accepts a
file exactly when at least one of them would load it without running code of
the file's choosing:

- torch's `weights_only` unpickler (`torch.load`'s default since 2.6):
  `torch._weights_only_unpickler._get_allowed_globals()`, read off torch
  2.13.0 (the build on this machine), CPU and CUDA names alike.
- ComfyUI (`comfy/utils.py`): what it registers with
  `torch.serialization.add_safe_globals` so old Stable Diffusion checkpoints
  load: a data-only stub for `ModelCheckpoint`, numpy's scalar and dtypes,
  `_codecs.encode`.
- AUTOMATIC1111's safe unpickler (`modules/safe.py`, `RestrictedUnpickler`).

docs/pickle-allowlist.md lists each name with its source. Anything else is
quarantined, naming the globals.
"""

from __future__ import annotations

import _compat_pickle

_TORCH_STORAGES = (
    "BFloat16",
    "Bool",
    "Byte",
    "Char",
    "ComplexDouble",
    "ComplexFloat",
    "Double",
    "Float",
    "Half",
    "Int",
    "Long",
    "QInt32",
    "QInt8",
    "QUInt2x4",
    "QUInt4x2",
    "QUInt8",
    "Short",
)
_TORCH_TENSOR_TYPES = (
    "BFloat16",
    "Bool",
    "Byte",
    "Char",
    "Double",
    "Float",
    "Half",
    "Int",
    "Long",
    "Short",
)
_TORCH_SPARSE_TENSOR_TYPES = tuple(t for t in _TORCH_TENSOR_TYPES if t != "Bool")
_TORCH_DTYPES = (
    "bfloat16",
    "bits16",
    "bits1x8",
    "bits2x4",
    "bits4x2",
    "bits8",
    "bool",
    "complex128",
    "complex32",
    "complex64",
    "float16",
    "float32",
    "float4_e2m1fn_x2",
    "float64",
    "float8_e4m3fn",
    "float8_e4m3fnuz",
    "float8_e5m2",
    "float8_e5m2fnuz",
    "float8_e8m0fnu",
    *(f"int{bits}" for bits in (1, 2, 3, 4, 5, 6, 7, 8, 16, 32, 64)),
    *(f"uint{bits}" for bits in (1, 2, 3, 4, 5, 6, 7, 8, 16, 32, 64)),
    "qint32",
    "qint8",
    "quint2x4",
    "quint4x2",
    "quint8",
)
_TORCH_REBUILDERS = (
    "_rebuild_device_tensor_from_cpu_tensor",
    "_rebuild_device_tensor_from_numpy",
    "_rebuild_meta_tensor_no_storage",
    "_rebuild_nested_tensor",
    "_rebuild_parameter",
    "_rebuild_parameter_with_state",
    "_rebuild_qtensor",
    "_rebuild_sparse_tensor",
    "_rebuild_tensor",
    "_rebuild_tensor_v2",
    "_rebuild_tensor_v3",
    "_rebuild_wrapper_subclass",
)

TORCH_WEIGHTS_ONLY: frozenset[str] = frozenset(
    {
        "_codecs.encode",
        "builtins.bytearray",
        "builtins.complex",
        "builtins.set",
        "collections.Counter",
        "collections.OrderedDict",
        "torch.Size",
        "torch.Tensor",
        "torch.device",
        "torch.nn.parameter.Parameter",
        "torch.serialization._get_layout",
        "torch._tensor._rebuild_from_type_v2",
        "torch.storage.TypedStorage",
        "torch.storage.UntypedStorage",
        "torch.per_channel_affine",
        "torch.per_channel_affine_float_qparams",
        "torch.per_channel_symmetric",
        "torch.per_tensor_affine",
        "torch.per_tensor_symmetric",
    }
    | {f"torch.{dtype}" for dtype in _TORCH_DTYPES}
    | {f"torch._utils.{name}" for name in _TORCH_REBUILDERS}
    | {f"torch{device}.{kind}Storage" for device in ("", ".cuda") for kind in _TORCH_STORAGES}
    | {f"torch{device}.{kind}Tensor" for device in ("", ".cuda") for kind in _TORCH_TENSOR_TYPES}
    | {
        f"torch{device}.sparse.{kind}Tensor"
        for device in ("", ".cuda")
        for kind in _TORCH_SPARSE_TENSOR_TYPES
    }
) - {
    # torch has no CUDA storages or tensors of quantized or complex types
    f"torch.cuda.{kind}Storage"
    for kind in ("QInt32", "QInt8", "QUInt2x4", "QUInt4x2", "QUInt8")
}

COMFYUI_SAFE_GLOBALS: frozenset[str] = frozenset(
    {
        "pytorch_lightning.callbacks.model_checkpoint.ModelCheckpoint",
        "numpy.core.multiarray.scalar",
        "numpy.dtype",
        "numpy.dtypes.Float64DType",
        "_codecs.encode",
    }
)

A1111_SAFE_UNPICKLER: frozenset[str] = frozenset(
    {
        "collections.OrderedDict",
        "torch._utils._rebuild_tensor_v2",
        "torch._utils._rebuild_parameter",
        "torch._utils._rebuild_device_tensor_from_numpy",
        *(
            f"torch.{name}"
            for name in (
                "FloatStorage",
                "HalfStorage",
                "IntStorage",
                "LongStorage",
                "DoubleStorage",
                "ByteStorage",
                "float32",
                "BFloat16Storage",
            )
        ),
        "torch.nn.modules.container.ParameterDict",
        "numpy.core.multiarray.scalar",
        "numpy.core.multiarray._reconstruct",
        "numpy.dtype",
        "numpy.ndarray",
        "_codecs.encode",
        "pytorch_lightning.callbacks.model_checkpoint",
        "pytorch_lightning.callbacks.model_checkpoint.ModelCheckpoint",
        # written `__builtin__ set` by Python 2 pickles; normalised below
        "builtins.set",
    }
)

HARMLESS: frozenset[str] = TORCH_WEIGHTS_ONLY | COMFYUI_SAFE_GLOBALS | A1111_SAFE_UNPICKLER

SOURCES: dict[str, frozenset[str]] = {
    "torch weights_only (2.13.0)": TORCH_WEIGHTS_ONLY,
    "ComfyUI add_safe_globals": COMFYUI_SAFE_GLOBALS,
    "A1111 modules/safe.py": A1111_SAFE_UNPICKLER,
}


def normalize(name: str) -> str:
    """The global Python's unpickler really looks up for `module.attr` as written.

    Python 2 pickles (protocols 0-2) name `__builtin__`, `copy_reg`...; the
    unpickler maps them with `_compat_pickle` (fix_imports), and torch's
    weights_only unpickler does the same. Judging the written name would let
    `__builtin__.eval` pass where `builtins.eval` would not.
    """
    module, _, attr = name.rpartition(".")
    if (module, attr) in _compat_pickle.NAME_MAPPING:
        return ".".join(_compat_pickle.NAME_MAPPING[(module, attr)])
    if module in _compat_pickle.IMPORT_MAPPING:
        return f"{_compat_pickle.IMPORT_MAPPING[module]}.{attr}"
    return name


def is_harmless(name: str) -> bool:
    return normalize(name) in HARMLESS
