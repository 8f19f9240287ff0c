"""End-to-end: every file a watch refuses or holds back shows in `status` (and the log).

A real `modeld run` on a real inbox; files are real safetensors (or plainly
not), written the way users and downloads leave them.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests import modelfiles
from tests.e2e.conftest import DaemonProcess, wait_until

pytestmark = pytest.mark.e2e


def entry_for(entries: list[dict[str, Any]], path: Path) -> dict[str, Any] | None:
    return next((e for e in entries if e.get("path") == str(path)), None)


def configured(daemon: DaemonProcess, **daemon_settings: float) -> DaemonProcess:
    """The suite's config with more [daemon] settings (a TOML table takes each key once)."""
    text = daemon.config_path.read_text()
    extra = "".join(f"{key} = {value}\n" for key, value in daemon_settings.items())
    text = re.sub(r"(settle_seconds = [^\n]*\n)", lambda m: m.group(1) + extra, text, count=1)
    text = text.replace("rescan_minutes = 60\n", "")
    daemon.config_path.write_text(text)
    return daemon.start()


def half_a_model(home: Path, target: Path) -> bytes:
    """Write the first half of a real LoRA to `target`; returns the whole file's bytes."""
    data = modelfiles.lora(home / "whole.safetensors").read_bytes()
    (home / "whole.safetensors").unlink()
    target.write_bytes(data[: len(data) // 2])
    return data


def test_a_refused_file_is_in_status_errors_and_logged_once_across_rescans(daemon_factory):
    # rescans every 3 s: a refusal must not be said again on each of them
    daemon = configured(daemon_factory(start=False), rescan_minutes=0.05)
    notes = daemon.drop / "notes.safetensors"
    notes.write_text("my prompts for this model\nsteps 30, cfg 7\n")
    license_file = daemon.drop / "LICENSE"  # refused by planning, before any import
    license_file.write_text("MIT License\n")

    def both_reported() -> bool:
        errors = daemon.status()["errors"]
        return entry_for(errors, notes) is not None and entry_for(errors, license_file) is not None

    wait_until(both_reported, what="both refusals in status errors")
    errors = daemon.status()["errors"]
    assert "a text file, not a model" in entry_for(errors, notes)["reason"]
    assert "not a model file (LICENSE)" in entry_for(errors, license_file)["reason"]
    assert notes.exists() and license_file.exists()  # refused files stay where they were
    assert daemon.status()["waiting"] == []

    scans_before = daemon.log().count(f"scanned {daemon.drop}")
    wait_until(
        lambda: daemon.log().count(f"scanned {daemon.drop}") >= scans_before + 3,
        what="three more rescans",
    )
    errors = daemon.status()["errors"]
    assert [e["path"] for e in errors].count(str(notes)) == 1
    assert [e["path"] for e in errors].count(str(license_file)) == 1
    warnings = [line for line in daemon.log().splitlines() if "WARNING" in line]
    assert len([line for line in warnings if str(notes) in line]) == 1, warnings
    assert len([line for line in warnings if str(license_file) in line]) == 1, warnings

    human = daemon.cli("status").stdout
    assert "waiting 0, errors 2" in human
    assert f"error: {notes}: a text file, not a model" in human
    assert daemon.stop() == 0


def test_a_refused_file_left_in_the_inbox_is_in_status_errors_after_a_restart(daemon_factory):
    daemon = daemon_factory()
    notes = daemon.drop / "notes.safetensors"
    notes.write_text("my prompts for this model\nsteps 30, cfg 7\n")
    first = wait_until(
        lambda: entry_for(daemon.status()["errors"], notes), what="the refusal in status errors"
    )
    assert daemon.stop() == 0

    daemon.start()  # the ledger remembers the file: it is not read again, but still said
    again = wait_until(
        lambda: entry_for(daemon.status()["errors"], notes), what="the refusal after the restart"
    )
    assert again["reason"] == first["reason"] and "a text file, not a model" in again["reason"]
    assert notes.exists() and daemon.status()["waiting"] == []
    time.sleep(1.0)
    assert [e["path"] for e in daemon.status()["errors"]] == [str(notes)]  # once per start
    assert daemon.log().count("still not imported: " + str(notes)) == 1
    assert daemon.stop() == 0


def test_a_truncated_file_waits_in_status_and_is_imported_once_complete(daemon_factory, home):
    daemon = daemon_factory()
    cut = daemon.drop / "cut.safetensors"
    data = half_a_model(home, cut)
    dropped_at = datetime.now(UTC)

    def waiting_as_truncated() -> dict | None:
        # before it is judged truncated it waits as "being checked for completeness"
        entry = entry_for(daemon.status()["waiting"], cut)
        return entry if entry and entry["reason"].startswith("truncated: ") else None

    waiting = wait_until(waiting_as_truncated, what="the file waiting as truncated")
    assert waiting["reason"].startswith("truncated: tensors need ")
    since = datetime.fromisoformat(waiting["since"])
    assert abs(since - dropped_at) < timedelta(seconds=30)
    # the default grace: reported as failed 30 minutes after its last change
    until = datetime.fromisoformat(waiting["until"])
    assert timedelta(minutes=29) < until - since <= timedelta(minutes=31)
    status = daemon.status()
    assert entry_for(status["errors"], cut) is None and daemon.models() == []
    human = daemon.cli("status").stdout
    assert "waiting 1, errors 0" in human
    assert f"waiting: {cut}: truncated" in human

    with open(cut, "ab") as rest:  # the download completes
        rest.write(data[len(data) // 2 :])
    models = wait_until(lambda: daemon.models(), what="the import once complete")
    assert Path(models[0]["files"][0]["path"]).read_bytes() == data
    wait_until(lambda: daemon.status()["waiting"] == [], what="the file to leave waiting")
    assert daemon.status()["errors"] == []
    assert daemon.stop() == 0


def test_a_waiting_file_leaves_when_deleted_and_fails_visibly_after_the_grace(daemon_factory, home):
    daemon = configured(daemon_factory(start=False), truncated_grace_minutes=0.1)
    gone, stuck = daemon.drop / "gone.safetensors", daemon.drop / "stuck.safetensors"
    half_a_model(home, gone)
    data = half_a_model(home, stuck)

    def both_waiting() -> bool:
        waiting = daemon.status()["waiting"]
        return entry_for(waiting, gone) is not None and entry_for(waiting, stuck) is not None

    wait_until(both_waiting, what="both truncated files in waiting")
    gone.unlink()
    wait_until(
        lambda: entry_for(daemon.status()["waiting"], gone) is None, what="the deleted file to go"
    )
    assert entry_for(daemon.status()["errors"], gone) is None  # deleted is not an error

    # 6 s unchanged: the grace is over, the wait turns into an error with the reason
    error = wait_until(
        lambda: entry_for(daemon.status()["errors"], stuck), what="the grace to run out"
    )
    assert error["reason"].startswith("truncated: tensors need ")
    assert entry_for(daemon.status()["waiting"], stuck) is None
    time.sleep(1.0)
    assert [e["path"] for e in daemon.status()["errors"]] == [str(stuck)]  # said once
    assert stuck.exists()

    # giving up is not final: the download resumes after all, and the file is imported
    with open(stuck, "ab") as rest:
        rest.write(data[len(data) // 2 :])
    models = wait_until(lambda: daemon.models(), what="the import after the late completion")
    assert Path(models[0]["files"][0]["path"]).read_bytes() == data
    assert daemon.stop() == 0
