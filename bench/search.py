"""Search and deep-scan speed on a 100,000-model library.

    python bench/search.py [--models 100000] [--dir /tmp]

Writes N synthetic model folders (metadata.json from the real ModelMeta
code, empty weight files), rebuilds the index from them with the real deep
scan (timed), then times in-process `search()` calls (p50/p99) and whole
`modeld search --json` CLI calls. Also compares the FTS5 tokenizers on the
queries users type, which is why the index uses trigram.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from modeld.library.db import open_index
from modeld.library.deepscan import scan_library
from modeld.library.metadata import FileEntry, ModelMeta
from modeld.library.search import search

FAMILIES = {
    "llm": ["llama", "qwen", "mistral", "gemma", "phi"],
    "checkpoint": ["sd15", "sdxl", "flux", "sd3"],
    "lora": ["sd15", "sdxl", "flux"],
    "vae": ["sd15", "sdxl"],
}
WORDS = [
    "Instruct",
    "Chat",
    "Coder",
    "Vision",
    "Turbo",
    "Lightning",
    "Realistic",
    "Anime",
    "Pony",
    "Juggernaut",
    "DreamShaper",
    "Detail",
    "Tweaker",
    "Base",
    "Hermes",
    "Dolphin",
]
QUANTS = ["Q4_K_M", "Q5_K_S", "Q8_0", "IQ3_XS", "F16"]
QUERIES = [
    "instruct",
    "llama",
    "q4_k_m",
    "sdxl",
    "detail tweaker",
    "struc",
    "juggernaut xl",
    "qwen coder",
    "7b",
    "anime pony",
    "lightning",
    "hermes q8_0",
    "nothing-matches-this",
]


def synthesize(root: Path, count: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    for n in range(count):
        model_type = rng.choice(list(FAMILIES))
        family = rng.choice(FAMILIES[model_type])
        words = "-".join(rng.sample(WORDS, 2))
        if model_type == "llm":
            quant = rng.choice(QUANTS)
            name = f"{family.title()}-{rng.choice([3, 7, 8, 13, 70])}B-{words}.{quant}"
            file_name = f"{name}.gguf"
        else:
            quant = None
            name = f"{words}_{family}_v{n % 20}"
            file_name = f"{name}.safetensors"
        digest = f"{n:064x}"
        meta = ModelMeta(
            id=digest[-16:],
            name=name,
            model_type=model_type,
            family=family,
            format="gguf" if model_type == "llm" else "safetensors",
            size=0,
            sha256=digest,
            blake3=digest,
            files=[FileEntry(file_name, 0, digest, digest, file_name)],
            quant=quant,
            tags=rng.sample(["nsfw", "photo", "anime", "style", "character", "chat"], 2),
        )
        folder = root / model_type / family / f"{name}-{n}"
        folder.mkdir(parents=True)
        (folder / file_name).touch()
        # the real document, without the per-file fsync an import pays
        (folder / "metadata.json").write_text(json.dumps(meta.to_json(folder)))


def tokenizer_comparison() -> list[str]:
    """Which tokenizer finds "Llama-3-8B-Instruct.Q4_K_M.gguf" for each query."""
    name = "Llama-3-8B-Instruct.Q4_K_M.gguf"
    tokenizers = {
        "trigram": "trigram",
        "unicode61": "unicode61 remove_diacritics 2",
        "unicode61+prefix": "unicode61 remove_diacritics 2",
        "unicode61 tokenchars -_.": "unicode61 tokenchars '-_.'",
    }
    lines = []
    for label, tokenize in tokenizers.items():
        db = sqlite3.connect(":memory:")
        db.execute(f'CREATE VIRTUAL TABLE t USING fts5(name, tokenize="{tokenize}")')
        db.execute("INSERT INTO t VALUES (?)", (name,))
        hits = []
        for query in ("instruct", "llama", "q4_k_m", "8b", "struc", "instr"):
            expression = '"' + query + '"' + ("*" if "prefix" in label else "")
            found = db.execute("SELECT count(*) FROM t WHERE t MATCH ?", (expression,)).fetchone()
            hits.append(f"{query}:{'yes' if found[0] else 'no'}")
        lines.append(f"  {label:<26} " + " ".join(hits))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", type=int, default=100_000)
    parser.add_argument("--dir", default="/tmp")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="modeld-search-", dir=args.dir))
    try:
        root = work / "library"
        (root / ".modeld").mkdir(parents=True)
        (root / ".modeld" / "library.json").write_text('{"library_id": "bench"}')
        started = time.perf_counter()
        synthesize(root, args.models)
        print(f"wrote {args.models} model folders in {time.perf_counter() - started:.1f} s")

        db = open_index(root / ".modeld" / "index.db")
        started = time.perf_counter()
        report = scan_library(root, deep=True)
        deep = time.perf_counter() - started
        assert report.indexed == args.models, report.to_json()
        print(f"scan --deep of {args.models} metadata.json: {deep:.1f} s  (target <= 60 s)")

        latencies = []
        for _ in range(20):
            for query in QUERIES:
                started = time.perf_counter()
                search(query, limit=50)
                latencies.append((time.perf_counter() - started) * 1000)
        latencies.sort()
        p50 = statistics.median(latencies)
        p99 = latencies[int(len(latencies) * 0.99) - 1]
        print(
            f"search() in-process over {len(latencies)} queries: p50 {p50:.2f} ms, "
            f"p99 {p99:.2f} ms, max {latencies[-1]:.2f} ms  (target p99 <= 10 ms)"
        )
        db.close()

        config = work / "config.toml"
        config.write_text(f'[library]\nroot = "{root}"\n[daemon]\nstate_dir = "{work / "st"}"\n')
        cli = []
        for query in ("instruct", "q4_k_m", "sdxl detail"):
            for _ in range(5):
                started = time.perf_counter()
                subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "modeld",
                        "--config",
                        str(config),
                        "search",
                        query,
                        "--json",
                    ],
                    stdout=subprocess.DEVNULL,
                    check=True,
                )
                cli.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        bare = (time.perf_counter() - started) * 1000
        print(
            f"`modeld search --json` whole CLI call: median {statistics.median(cli):.0f} ms, "
            f"max {max(cli):.0f} ms  (target <= 250 ms; bare python start {bare:.0f} ms)"
        )
        print("tokenizers on 'Llama-3-8B-Instruct.Q4_K_M.gguf':")
        for line in tokenizer_comparison():
            print(line)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
