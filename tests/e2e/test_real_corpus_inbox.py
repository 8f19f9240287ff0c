"""The real third-party corpus dropped into the inbox of a real `modeld run`.

Every file of ../shared/corpus (see tests/realcorpus.py) is copied aside and
its folders are renamed into a move-mode [[watch]] at once. What the daemon did
with each file is read back only through the CLI, as a user would:
imported (`list --json`, matched by the manifest's sha256), quarantined
(`quarantine list --json`, by path) or refused (`status --json` errors, by
path). Every file must do what MANIFEST.tsv says.
"""

from __future__ import annotations

import json
import os
import time

import pytest

from tests import realcorpus
from tests.e2e.conftest import DaemonProcess
from tests.realcorpus import CorpusFile, Outcome

pytestmark = pytest.mark.e2e

# bounds for a hung or stuck daemon, not timing assertions: the whole corpus
# takes a few seconds
BOUND = 50.0
# the daemon is idle and nothing it reports has changed for this long: what is
# still unaccounted for (a file parked as waiting, a refusal status leaves out)
# will stay so, and waiting out BOUND would only slow the failure down
QUIET = 6.0
POLL = 0.5
FINAL = ("imported", "quarantined", "refused")


@pytest.mark.timeout(180)
def test_every_real_corpus_file_dropped_in_an_inbox_does_what_the_manifest_says(
    daemon_factory, home, capsys
):
    root = realcorpus.require_corpus()
    entries = realcorpus.verified_manifest(root)
    daemon = daemon_factory()
    outside = home / "outside"
    realcorpus.copy_into(root, entries, outside)
    for top in sorted(outside.iterdir()):  # whole trees arrive at once, as a move does
        os.rename(top, daemon.drop / top.name)
    inbox = {entry.path: os.path.realpath(daemon.drop / entry.path) for entry in entries}

    seen = wait_for_accounting(daemon, entries, inbox)
    wrong = {
        entry.path: problem
        for entry in entries
        if (problem := realcorpus.judge(entry, seen[entry.path])) is not None
    }
    with capsys.disabled():
        print(realcorpus.summary("daemon inbox", entries, wrong))
    code = daemon.stop()
    assert wrong == {}, realcorpus.listing(wrong)
    assert code == 0, daemon.log()


def wait_for_accounting(
    daemon: DaemonProcess, entries: list[CorpusFile], inbox: dict[str, str]
) -> dict[str, list[Outcome]]:
    """Poll the CLI until every file has a final outcome, or the daemon has gone quiet."""
    deadline = time.monotonic() + BOUND
    last, quiet_since = None, time.monotonic()
    while True:
        status = daemon.status()
        seen = observe(daemon, status, entries, inbox)
        if all(any(o.kind in FINAL for o in seen[e.path]) for e in entries):
            return seen
        now = time.monotonic()
        if seen != last or not idle(status):
            last, quiet_since = seen, now
        if now - quiet_since >= QUIET or now >= deadline:
            return seen
        time.sleep(POLL)


def observe(
    daemon: DaemonProcess, status: dict, entries: list[CorpusFile], inbox: dict[str, str]
) -> dict[str, list[Outcome]]:
    """Every outcome the CLI reports for each manifest path."""
    by_path = {real: path for path, real in inbox.items()}
    by_sha = {entry.sha256: entry.path for entry in entries}
    seen: dict[str, list[Outcome]] = {entry.path: [] for entry in entries}
    for model in daemon.models():
        if model["sha256"] in by_sha:
            seen[by_sha[model["sha256"]]].append(Outcome("imported", model["format"]))
    quarantine = json.loads(daemon.cli("quarantine", "list", "--json").stdout)
    for record in quarantine:
        if (path := by_path.get(os.path.realpath(record["path"]))) is not None:
            seen[path].append(Outcome("quarantined", record["reason"]))
    for kind, items in (("refused", status.get("errors", [])), ("waiting", status.get("waiting"))):
        for item in items or []:
            if isinstance(item, dict):
                if (path := by_path.get(os.path.realpath(item["path"]))) is not None:
                    seen[path].append(Outcome(kind, item["reason"]))
                continue
            # not the contract's {"path", "reason"}: shown, so the failure says why
            for real, path in by_path.items():
                if str(item).startswith(f"{real}: "):
                    seen[path].append(Outcome(f"{kind} (not a {{path, reason}} entry)", item))
    return seen


def idle(status: dict) -> bool:
    """No import queued or running on any device."""
    return all(not q["pending"] and not q["active"] for q in status["queues"])
