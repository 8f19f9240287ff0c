"""Status snapshots and events as the daemon sends them, for the tray model's tests."""

from __future__ import annotations

from typing import Any

from modeld.tray.menu import MenuEntry
from modeld.tray.state import TrayModel

T0 = 1_800_000_000.0


def status(**overrides: Any) -> dict[str, Any]:
    """A `status` result as the daemon sends it: idle, nothing wrong."""
    document: dict[str, Any] = {
        "state": "running",
        "pid": 4242,
        "watching": [],
        "queues": [{"device": "sda", "kind": "ssd", "pending": 0, "active": []}],
        "imported": 0,
        "duplicates": 0,
        "quarantined": 0,
        "links": {"ok": 3, "broken": 0, "missing": 0, "orphaned": 0},
        "errors": [],
        "waiting": [],
        "recent": [],
        "imported_today": 0,
        "library": {"root": "/lib", "online": True},
        "hub": {"state": "online", "next_try": None},
        "quarantine_dir": "/lib/.modeld/quarantine",
        "drop_folders": ["/drop"],
    }
    document.update(overrides)
    return document


def model_object(name: str, model_type: str = "lora", **extra: Any) -> dict[str, Any]:
    return {
        "id": f"id-{name}",
        "name": name,
        "model_type": model_type,
        "family": "sdxl",
        "size": 123_000_000,
        "path": f"/lib/{model_type}/sdxl/{name}",
        **extra,
    }


def connected(**overrides: Any) -> TrayModel:
    model = TrayModel(library_root="/cfg-lib", quarantine_dir="/cfg-q", drop_folders=["/cfg-drop"])
    model.apply_status(status(**overrides), T0)
    return model


def ev(kind: str, time: float = T0, **fields: Any) -> dict[str, Any]:
    return {"event": kind, "time": time, **fields}


def entry(menu: tuple[MenuEntry, ...], prefix: str) -> MenuEntry:
    matches = [e for e in menu if e.text.startswith(prefix)]
    assert len(matches) == 1, [e.text for e in menu]
    return matches[0]
