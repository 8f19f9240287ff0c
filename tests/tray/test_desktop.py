"""What the tray asks of the desktop: opening folders, an icon file for notifications."""

from __future__ import annotations

import os
from pathlib import Path

from PIL import Image

from modeld.tray.desktop import NOTIFICATION_ICON_SIZE, notification_icon, open_folder
from tests.tray.xserver import wait_until


def test_a_missing_folder_is_reported_not_opened(tmp_path: Path, caplog):
    open_folder(str(tmp_path / "unplugged-drive"))
    assert "no such folder" in caplog.text


def test_a_folder_is_handed_to_xdg_open(tmp_path: Path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    opened = tmp_path / "opened.txt"
    fake = bin_dir / "xdg-open"  # a stand-in file manager that records what it was given
    part = f"{opened}.part"  # renamed into place: the test never reads a half-written file
    fake.write_text(f'#!/bin/sh\nprintf "%s" "$1" > "{part}" && mv "{part}" "{opened}"\n')
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    library = tmp_path / "library"
    library.mkdir()
    open_folder(str(library))
    wait_until(opened.exists, "xdg-open to run")
    assert opened.read_text() == str(library)


def test_the_notification_icon_is_written_once_as_a_png(tmp_path: Path):
    state_dir = tmp_path / "state"
    path = notification_icon(state_dir)
    assert path == state_dir / "tray-icon.png"
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert image.size == (NOTIFICATION_ICON_SIZE, NOTIFICATION_ICON_SIZE)
    path.write_bytes(b"kept")  # an existing file is reused, not redrawn on every start
    assert notification_icon(state_dir) == path
    assert path.read_bytes() == b"kept"


def test_no_notification_icon_where_the_state_dir_cannot_be_made(tmp_path: Path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert notification_icon(blocker / "state") is None
