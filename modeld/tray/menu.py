"""The tray menu's model: entries, what choosing one does, and the lists it shows.

Backends draw `MenuEntry` trees (pystray, the Tk popup); the model builds
them from these pieces. An entry with no action is an information line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from modeld.tray.wording import clip, duration, model_label

RECENT_LIMIT = 10
ERROR_MAX = 100
ERRORS_SHOWN = 5


@dataclass(frozen=True)
class Action:
    """What a menu entry does when chosen; the app maps it to a call or a folder."""

    kind: str  # pause | resume | links_check | open | open_quarantine | dismiss_errors | quit
    path: str | None = None


@dataclass(frozen=True)
class MenuEntry:
    text: str
    action: Action | None = None  # None: an information line
    enabled: bool = True
    children: tuple[MenuEntry, ...] = ()

    @property
    def is_separator(self) -> bool:
        return self.text == SEPARATOR.text


SEPARATOR = MenuEntry("-")


def hub_line(retry_at: float | None, now: float) -> MenuEntry:
    if retry_at is not None and retry_at > now:
        text = f"Hugging Face unreachable, retrying in {duration(retry_at - now)}"
    else:
        text = "Hugging Face unreachable"
    return MenuEntry(text, enabled=False)


def waiting_entry(waiting: Sequence[str]) -> list[MenuEntry]:
    if not waiting:
        return []
    shown = [MenuEntry(clip(w, ERROR_MAX), enabled=False) for w in waiting[:ERRORS_SHOWN]]
    if len(waiting) > ERRORS_SHOWN:
        shown.append(MenuEntry(f"… and {len(waiting) - ERRORS_SHOWN} more", enabled=False))
    return [MenuEntry(f"Waiting ({len(waiting)})", children=tuple(shown))]


def errors_entry(errors: Sequence[str]) -> list[MenuEntry]:
    if not errors:
        return []
    shown = [MenuEntry(clip(e, ERROR_MAX), enabled=False) for e in errors[-ERRORS_SHOWN:]]
    dismiss = MenuEntry("Dismiss", Action("dismiss_errors"))
    return [MenuEntry(f"Errors ({len(errors)})", children=(*shown, SEPARATOR, dismiss))]


def drop_folder_entry(drop_folders: Sequence[str]) -> MenuEntry:
    if not drop_folders:
        return MenuEntry("Open drop folder", enabled=False)
    if len(drop_folders) == 1:
        return MenuEntry("Open drop folder", Action("open", drop_folders[0]))
    return MenuEntry(
        "Open drop folder",
        children=tuple(MenuEntry(p, Action("open", p)) for p in drop_folders),
    )


def recent_entry(recent: Sequence[Mapping[str, Any]]) -> MenuEntry:
    if not recent:
        return MenuEntry("Recent imports", enabled=False)
    children = []
    for model in recent[:RECENT_LIMIT]:
        path = model.get("path")
        children.append(
            MenuEntry(
                model_label(model), Action("open", str(path)) if path else None, enabled=bool(path)
            )
        )
    return MenuEntry("Recent imports", children=tuple(children))
