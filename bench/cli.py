"""CLI start-up (issue 13): how long a short `modeld` command takes, end to end.

    python bench/cli.py [--runs 15] [--models 1000] [--tree DIR] [--gib] [--json]

Each row is the median wall time of N runs of the `modeld` console script
(hyperfine-style: one warm-up run first, not counted), PYTHONPATH=--tree
(default this checkout), beside `python -c pass` as the reference. Also the
median CPU time (user + sys) of the command's process: on a shared, loaded
machine it moves far less than the wall time does.
- `modeld --version`;
- `search --json` on a library of --models models (built as bench/imports.py
  builds one: a seed imported through the CLI, cloned, `scan --deep`);
- `status --json` against a `modeld run` on that library;
- `import` of one tiny safetensors through that daemon, and in-process (no daemon).
`--gib` adds bench/imports.py's 1 GiB move import vs `openssl dgst -sha256`.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # this checkout's modeld and tests

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from dataclasses import asdict, dataclass  # noqa: E402

from bench.imports import Modeld, build_library, gib_rows, log, tiny_files  # noqa: E402

# the console script users run; it does `from modeld.cli import main`, found on PYTHONPATH
SCRIPT = Path(sys.executable).with_name("modeld")

# row -> the target in ms ("" when it sets none)
TARGETS = {
    "python -c pass": None,
    "modeld --version": None,
    "search --json": 120.0,
    "status --json": 100.0,
    "import, through the daemon": 250.0,
    "import, in-process": None,
}


@dataclass
class Row:
    name: str
    ms: float  # median wall time
    spread: tuple[float, float]  # min, max wall time
    cpu_ms: float  # median user + sys time of the command's process

    def target(self) -> str:
        bound = TARGETS.get(self.name)
        if bound is None:
            return ""
        return f"<= {bound:.0f} ms  " + ("ok" if self.ms <= bound else "MISS")


class Cli(Modeld):
    """bench/imports.py's Modeld, but through the console script, not `python -m`."""

    def argv(self, *args: str) -> list[str]:
        return [str(SCRIPT), "--config", str(self.config), *args]


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_ms(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """(wall, CPU) milliseconds of one run."""
    cpu, started = children_cpu(), time.perf_counter()
    result = subprocess.run(argv, env=env, cwd=cwd, capture_output=True)
    elapsed, cpu = 1000 * (time.perf_counter() - started), 1000 * (children_cpu() - cpu)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(argv)}: exit {result.returncode}\n{result.stderr.decode()}")
    return elapsed, cpu


def timed(name: str, runs: int, argvs) -> Row:
    """`argvs()` yields (argv, env, cwd) per run; the first (warm-up) is not counted."""
    log(f"{name}: {runs} runs")
    runs_ms = [run_ms(*args) for args in argvs(runs + 1)][1:]
    walls = [wall for wall, _ in runs_ms]
    cpu = statistics.median(cpu for _, cpu in runs_ms)
    return Row(name, statistics.median(walls), (min(walls), max(walls)), cpu)


def same(argv: list[str], env: dict[str, str], cwd: Path):
    return lambda n: ((argv, env, cwd) for _ in range(n))


def imports(cli: Cli, folder: Path, tag: str):
    """A new tiny file per run (each unique: none is a duplicate)."""

    def argvs(n: int):
        for path in tiny_files(folder, n, tag):
            yield cli.argv("import", "--json", str(path)), cli.env, cli.home

    return argvs


def start_daemon(cli: Cli) -> subprocess.Popen:
    daemon = cli.popen("run", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while cli.run("status", check=False) < 0:  # ready once it answers
        if daemon.poll() is not None or time.monotonic() > deadline:
            daemon.kill()
            raise SystemExit(f"the daemon did not come up (exit {daemon.poll()})")
        time.sleep(0.2)
    return daemon


def measure(args: argparse.Namespace, home: Path) -> list[Row]:
    lib = Cli(args.tree, home, "lib")
    env, cwd = lib.env, lib.home
    rows = [
        timed("python -c pass", args.runs, same([sys.executable, "-c", "pass"], env, cwd)),
        timed("modeld --version", args.runs, same([str(SCRIPT), "--version"], env, cwd)),
    ]
    log(f"a library of {args.models} models")
    build_library(lib, home, args.models)
    rows.append(timed("search --json", args.runs, same(lib.argv("search", "--json"), env, cwd)))
    daemon = start_daemon(lib)
    try:
        rows.append(timed("status --json", args.runs, same(lib.argv("status", "--json"), env, cwd)))
        through = imports(lib, home / "via-daemon", "daemon")
        rows.append(timed("import, through the daemon", args.runs, through))
    finally:
        daemon.terminate()
        daemon.wait(timeout=60)
    alone = Cli(args.tree, home, "alone")
    rows.append(timed("import, in-process", args.runs, imports(alone, home / "alone-src", "alone")))
    return rows


def print_report(rows: list[Row], info: dict) -> None:
    print(f"modeld: {info['modeld']}")
    print(f"load before {info['load_before']}, after {info['load_after']}")
    print(f"median of {info['runs']} runs; library of {info['models']} models for search/status")
    reference = rows[0].ms
    print(f"{'command':<28} {'median':>9} {'min..max':>17} {'x python':>9} {'cpu':>9}  target")
    for row in rows:
        spread = f"{row.spread[0]:.0f}..{row.spread[1]:.0f} ms"
        print(
            f"{row.name:<28} {row.ms:>6.0f} ms {spread:>17} {row.ms / reference:>8.2f}x "
            f"{row.cpu_ms:>6.0f} ms  {row.target()}"
        )
    for gib in info.get("gib", []):
        print(
            f"{gib['name']:<28} {gib['figure']:>6.2f} s  vs {gib['reference']:.2f} s "
            f"{gib['reference_name']}: {gib['figure'] / gib['reference']:.2f}x "
            f"(target <= 1.05x for the move)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--tree", type=Path, default=REPO, help="the modeld checkout to measure")
    parser.add_argument("--gib", action="store_true", help="also the 1 GiB move import row")
    parser.add_argument("--dir", default="/tmp", help="where the temp libraries go")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    args.tree = args.tree.resolve()
    env = {**os.environ, "PYTHONPATH": str(args.tree)}
    where = subprocess.run(
        [sys.executable, "-c", "import modeld; print(modeld.__file__)"],
        env=env,
        cwd="/",  # `python -c` puts the cwd first on sys.path, ahead of PYTHONPATH
        capture_output=True,
        text=True,
    ).stdout.strip()
    info = {"modeld": where, "runs": args.runs, "models": args.models}
    info["load_before"] = [round(x, 2) for x in os.getloadavg()]
    home = Path(tempfile.mkdtemp(prefix="mdbc-", dir=args.dir))
    try:
        rows = measure(args, home)
        if args.gib:
            info["gib"] = [asdict(r) for r in gib_rows(args.tree, home, 1 << 30, 3)[:1]]
    finally:
        shutil.rmtree(home, ignore_errors=True)
        for state in Modeld.states:
            shutil.rmtree(state, ignore_errors=True)
    info["load_after"] = [round(x, 2) for x in os.getloadavg()]
    if args.json:
        json.dump({**info, "rows": [asdict(r) for r in rows]}, sys.stdout, indent=2)
        print()
    else:
        print_report(rows, info)


if __name__ == "__main__":
    main()
