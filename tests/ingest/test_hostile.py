"""Hostile input never hurts the process: every bad file is refused or quarantined.

The hostile corpus (tests/modelfiles.build_hostile: 30+ files) is planned and
inspected in a child process, so its peak memory can be measured on its own;
pytest-timeout bounds the time (a hang fails the test, no timing is asserted).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from modeld.ingest.formats import Dangerous, Refused, Sniffed
from modeld.ingest.formats.combine import inspect_unit
from modeld.ingest.planner import plan_units
from tests import modelfiles

ROOT = Path(__file__).resolve().parents[2]
# the zip bomb alone would inflate to 256 MiB; the whole run must stay far below
MEMORY_LIMIT_KB = 200 * 1024

CHILD = r"""
import json, os, resource, sys
from pathlib import Path
from modeld.ingest.formats import Dangerous, Refused, Sniffed
from modeld.ingest.formats.combine import inspect_unit
from modeld.ingest.planner import plan_units

entries = json.loads(sys.stdin.read())
drop = Path(os.fsdecode(bytes.fromhex(entries["drop"])))
results = {}
for key, path_hex in entries["paths"]:
    path = Path(os.fsdecode(bytes.fromhex(path_hex)))
    units, problems = plan_units([path], boundary=drop)
    if problems:
        p = problems[0]
        results[key] = ["problem", p.reason, p.retry, len(units)]
        continue
    verdict = inspect_unit(units[0])
    if isinstance(verdict, Refused):
        results[key] = ["refused", verdict.reason, verdict.retry, 1]
    elif isinstance(verdict, Dangerous):
        results[key] = ["dangerous", verdict.reason + " " + " ".join(verdict.imports), False, 1]
    else:
        results[key] = ["sniffed", verdict.format, False, 1]
# VmHWM is this program's own peak; ru_maxrss on Linux also carries the peak
# of the process that forked us (pytest), from before the exec
try:
    with open("/proc/self/status") as status:
        peak = next(int(l.split()[1]) for l in status if l.startswith("VmHWM:"))
except OSError:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"results": results, "maxrss_kb": peak}))
"""


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    base = tmp_path_factory.mktemp("hostile")
    marker = base / "MARKER-payload-ran"
    entries = modelfiles.build_hostile(base / "drop", base / "outside", marker)
    entries += modelfiles.build_hostile_gguf(base / "drop")
    entries += modelfiles.build_hostile_safetensors(base / "drop")
    yield base / "drop", entries, marker
    assert not marker.exists(), "a pickle payload was executed"


def test_there_are_at_least_25_hostile_inputs(hostile):
    _drop, entries, _marker = hostile
    assert len(entries) >= 25
    assert len({e.key for e in entries}) == len(entries)


@pytest.mark.timeout(120)
def test_every_hostile_input_is_refused_with_its_reason_in_bounded_memory(hostile, capsys):
    drop, entries, marker = hostile
    request = {
        "drop": os.fsencode(drop).hex(),
        "paths": [[e.key, os.fsencode(e.path).hex()] for e in entries],
    }
    child = subprocess.run(
        [sys.executable, "-c", CHILD],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=110,
        check=True,
    )
    report = json.loads(child.stdout)
    mismatches = []
    for entry in entries:
        outcome, reason, retry, units = report["results"][entry.key]
        if outcome != entry.outcome or entry.reason not in reason or retry != entry.retry:
            mismatches.append((entry.key, outcome, reason, retry))
        if outcome == "problem":
            assert units == 0, entry.key  # nothing of a refused input goes on to import
    with capsys.disabled():
        print(f"\nhostile inputs: {len(entries)}, child peak RSS {report['maxrss_kb'] // 1024} MiB")
    assert mismatches == []
    assert report["maxrss_kb"] < MEMORY_LIMIT_KB
    assert not marker.exists()


def test_in_process_the_drop_folder_as_a_whole_gives_no_unit_for_any_hostile_file(hostile):
    drop, entries, _marker = hostile
    units, problems = plan_units([drop], boundary=drop)
    verdicts = {}
    for unit in units:
        verdicts[unit.primary.path] = inspect_unit(unit)
    assert not any(isinstance(v, Sniffed) for v in verdicts.values())
    refused = {p for p, v in verdicts.items() if isinstance(v, Refused)}
    dangerous = {p for p, v in verdicts.items() if isinstance(v, Dangerous)}
    assert dangerous == {e.path for e in entries if e.outcome == "dangerous"}
    assert refused == {e.path for e in entries if e.outcome == "refused"}
    problem_paths = {p.path for p in problems}
    for entry in entries:
        if entry.outcome == "problem":
            assert entry.path in problem_paths or entry.key == "incomplete-shards", entry.key
