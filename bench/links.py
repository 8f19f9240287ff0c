"""Link speed with a big library: full check, incremental sync, repair after a move.

    python bench/links.py [--models 10000] [--dir /tmp]

Builds a library of N small models (real files, metadata.json, index rows)
and three apps (two ComfyUI trees and a flat folder-per-type app), links
everything, then times:
  - `links check` over every link (target <= 2 s for 10,000 models),
  - `sync_model` after one import, as the daemon does (target <= 50 ms),
  - `links repair` after the library moved to a new path, which breaks every
    relative link at once (target <= 10 s for 10,000 broken links).
Each figure is printed with its ratio to a floor measured in the same run on
the same links: the bare system calls the operation cannot avoid.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from modeld.config import parse_config
from modeld.library.db import FileRecord, ModelRecord, database, open_index
from modeld.library.layout import ensure_library
from modeld.library.metadata import FileEntry, ModelMeta
from modeld.links import LinkManager
from modeld.links.registry import LinkRecord

TYPES = ("lora", "checkpoint", "vae", "embedding", "controlnet", "upscaler", "text_encoder")
TARGETS = {"check": 2.0, "sync after one import": 0.050, "repair after a move": 10.0}


def make_model(root: Path, i: int) -> tuple[ModelMeta, Path]:
    """One small model folder: a weights file and its metadata.json (no fsync: a bench)."""
    model_type = TYPES[i % len(TYPES)]
    name = f"model-{i:05d}"
    folder = root / model_type / "sd15" / name
    folder.mkdir(parents=True)
    data = f"weights of {name}\n".encode()
    (folder / f"{name}.safetensors").write_bytes(data)
    digest = f"{i:064x}"
    entry = FileEntry(f"{name}.safetensors", len(data), digest, digest, f"{name}.safetensors")
    meta = ModelMeta(
        id=f"id{i:08d}",
        name=name,
        model_type=model_type,
        family="sd15",
        format="safetensors",
        size=len(data),
        sha256=digest,
        blake3=digest,
        files=[entry],
    )
    (folder / "metadata.json").write_text(json.dumps(meta.to_json(folder)))
    return meta, folder


def index_models(root: Path, metas: list[tuple[ModelMeta, Path]]) -> None:
    """Bulk rows (upsert_model per model would time the index, not the links)."""
    with database.atomic():
        for start in range(0, len(metas), 500):
            part = metas[start : start + 500]
            ModelRecord.insert_many(
                [
                    {
                        "model_id": m.id,
                        "name": m.name,
                        "model_type": m.model_type,
                        "family": m.family,
                        "format": m.format,
                        "size": m.size,
                        "rel_path": folder.relative_to(root).as_posix(),
                        "sha256": m.sha256,
                        "blake3": m.blake3,
                        "imported_at": time.time(),
                    }
                    for m, folder in part
                ]
            ).execute()
        pks = dict(ModelRecord.select(ModelRecord.model_id, ModelRecord.pk).tuples())
        rows = [
            {
                "model": pks[m.id],
                "rel_path": f.name,
                "size": f.size,
                "sha256": f.sha256,
                "blake3": f.blake3,
                "original_name": f.original_name,
            }
            for m, _ in metas
            for f in m.files
        ]
        for start in range(0, len(rows), 500):
            FileRecord.insert_many(rows[start : start + 500]).execute()


def timed(action) -> tuple[float, object]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def stat_floor(paths: list[str], targets: list[str]) -> float:
    """lstat + stat of each link and stat of its target: what any check must do."""
    started = time.perf_counter()
    for path, target in zip(paths, targets, strict=True):
        os.lstat(path)
        os.stat(path)
        os.stat(target)
    return time.perf_counter() - started


def symlink_floor(scratch: Path, targets: list[str]) -> float:
    """Creating as many fresh symlinks (and swapping them in) as a repair re-aims."""
    scratch.mkdir()
    started = time.perf_counter()
    for i, target in enumerate(targets):
        temp = scratch / f".{i}.tmp"
        os.symlink(target, temp)
        os.replace(temp, scratch / str(i))
    return time.perf_counter() - started


def report(name: str, seconds: float, floor: float | None, extra: str = "") -> None:
    target = TARGETS.get(name)
    verdict = ""
    if target is not None:
        verdict = f"  target <= {target * 1000:.0f} ms: {'met' if seconds <= target else 'MISSED'}"
    ratio = f"  ({seconds / floor:.1f}x the floor of {floor * 1000:.1f} ms)" if floor else ""
    print(f"{name:<26} {seconds * 1000:9.1f} ms{ratio}{verdict}{extra}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=10_000)
    parser.add_argument("--dir", default=tempfile.gettempdir())
    args = parser.parse_args()

    base = Path(tempfile.mkdtemp(prefix="modeld-bench-links-", dir=args.dir))
    try:
        root = base / "usb" / "Models"
        apps = [base / "ComfyUI", base / "ComfyUI-2", base / "shared"]
        for app in apps[:2]:
            for folder in ("checkpoints", "loras", "vae", "embeddings", "controlnet"):
                (app / "models" / folder).mkdir(parents=True)
        apps[2].mkdir()

        def config_for(library: Path):
            return parse_config(
                {
                    "library": {"root": str(library)},
                    "daemon": {"state_dir": str(base / "state")},
                    "app": [
                        {"name": "comfyui", "kind": "comfyui", "path": str(apps[0])},
                        {"name": "comfyui-2", "kind": "comfyui", "path": str(apps[1])},
                        {"name": "shared", "kind": "flat", "path": str(apps[2])},
                    ],
                },
                source=None,
            )

        config = config_for(root)
        ensure_library(root)
        db = open_index(config.index_path)
        started = time.perf_counter()
        metas = [make_model(root, i) for i in range(args.models)]
        index_models(root, metas)
        print(
            f"library: {args.models} models written and indexed in "
            f"{time.perf_counter() - started:.1f} s; 3 apps"
        )

        manager = LinkManager(config)
        seconds, result = timed(manager.sync_all)
        links = LinkRecord.select().count()
        report("initial full sync", seconds, None, f"  {result['created']} links created")

        rows = list(LinkRecord.select(LinkRecord.path, LinkRecord.target).tuples())
        floor = stat_floor([r[0] for r in rows], [r[1] for r in rows])
        check_times = []
        for _ in range(3):
            seconds, result = timed(manager.check)
            check_times.append(seconds)
        assert result["ok"] == links, result["checked"]
        report("check", min(check_times), floor, f"  {links} links, all ok")

        sync_times = []
        for i in range(args.models, args.models + 20):
            meta, _ = make_model(root, i)
            index_models(root, [(meta, root / meta.model_type / "sd15" / meta.name)])
            seconds, result = timed(lambda m=meta: manager.sync_model(m.id))
            assert result["created"] == 3, result
            sync_times.append(seconds)
        scratch_floor = symlink_floor(base / "scratch-sync", [str(root)] * 3)
        report(
            "sync after one import",
            statistics.median(sync_times),
            scratch_floor,
            f"  median of 20 (max {max(sync_times) * 1000:.1f} ms)",
        )

        db.close()
        moved = base / "usb2" / "Models"  # a new mount point, a sibling-prefix name on purpose
        moved.parent.mkdir()
        os.rename(root, moved)
        moved_config = dataclasses.replace(
            config_for(moved), index_path=moved / ".modeld" / "index.db"
        )
        db = open_index(moved_config.index_path)
        manager = LinkManager(moved_config)
        broken = len(manager.check()["broken"])
        seconds, result = timed(manager.repair)
        targets = [t.replace(str(root), str(moved), 1) for _, t in rows]
        floor = symlink_floor(base / "scratch-repair", targets[:broken])
        report(
            "repair after a move",
            seconds,
            floor,
            f"  {broken} broken links, {result['repointed']} re-aimed, "
            f"{result['unfixed']} unfixed; {seconds / max(broken, 1) * 10_000:.2f} s per 10,000",
        )
        after = manager.check()
        assert after["ok"] == LinkRecord.select().count() and not after["broken"], after["checked"]
        db.close()
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
