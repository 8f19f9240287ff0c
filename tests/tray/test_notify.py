"""Notification dispatch, through stand-in `notify-send`, `gdbus` and `osascript` on PATH.

The stand-ins are real executables that record their arguments: the real ones
need a desktop session (a D-Bus notification daemon, or macOS), which a test
machine does not have.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import pytest

from modeld.tray.notify import NotificationSender
from modeld.tray.state import Notification

ALL_ON = {"imported": True, "quarantined": True, "links": True, "library": True}
NOTE = Notification("quarantined", "Quarantined evil.ckpt", 'pickle imports "os.system"\nline 2')


class FakeCommands:
    """A folder of fake commands; each appends its argv (as JSON) to <name>.log."""

    def __init__(self, folder: Path, monkeypatch: pytest.MonkeyPatch):
        self.folder = folder
        folder.mkdir(exist_ok=True)
        monkeypatch.setenv("PATH", str(folder))  # nothing else: no real notify-send, no gdbus

    def add(self, name: str, exit_code: int = 0) -> None:
        script = self.folder / name
        # -I: a fast start (no site-packages), far inside the sender's 5 s timeout
        script.write_text(
            f"#!{sys.executable} -I\n"
            "import json, sys\n"
            f"with open({str(self.folder / (name + '.log'))!r}, 'a') as log:\n"
            "    log.write(json.dumps(sys.argv[1:]) + '\\n')\n"
            f"sys.stderr.write('{name} says no\\n') if {exit_code} else None\n"
            f"sys.exit({exit_code})\n"
        )
        script.chmod(0o755)

    def calls(self, name: str) -> list[list[str]]:
        log = self.folder / f"{name}.log"
        if not log.exists():
            return []
        return [json.loads(line) for line in log.read_text().splitlines()]


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeCommands:
    return FakeCommands(tmp_path / "bin", monkeypatch)


def test_notify_send_gets_app_name_icon_title_and_body(fake, tmp_path):
    fake.add("notify-send")
    icon = tmp_path / "icon.png"
    sender = NotificationSender(ALL_ON, icon_path=icon, platform="linux")
    assert sender.send(NOTE) == "notify-send"
    assert fake.calls("notify-send") == [
        ["--app-name=modeld", f"--icon={icon}", "--", NOTE.title, NOTE.body]
    ]


def test_a_title_that_looks_like_an_option_is_not_taken_for_one(fake):
    fake.add("notify-send")
    NotificationSender(ALL_ON, platform="linux").send(Notification("imported", "--help", "-x"))
    assert fake.calls("notify-send") == [["--app-name=modeld", "--", "--help", "-x"]]


def test_kinds_turned_off_in_the_config_are_not_shown(fake):
    fake.add("notify-send")
    sender = NotificationSender({**ALL_ON, "quarantined": False}, platform="linux")
    assert sender.send(NOTE) == "off"
    assert sender.send(Notification("library", "Library drive offline", "x")) == "notify-send"
    assert [call[-2] for call in fake.calls("notify-send")] == ["Library drive offline"]


def test_the_answer_to_a_menu_action_is_shown_even_when_its_kind_is_off(fake):
    fake.add("notify-send")
    sender = NotificationSender({**ALL_ON, "links": False}, platform="linux")
    assert sender.send(Notification("links", "Links are fine", "2 ok"), requested=True) == (
        "notify-send"
    )


def test_without_notify_send_gdbus_calls_the_notification_service(fake):
    fake.add("gdbus")
    assert NotificationSender(ALL_ON, platform="linux").send(NOTE) == "gdbus"
    (argv,) = fake.calls("gdbus")
    assert argv[:5] == [
        "call",
        "--session",
        "--dest=org.freedesktop.Notifications",
        "--object-path=/org/freedesktop/Notifications",
        "--method=org.freedesktop.Notifications.Notify",
    ]
    # app_name, replaces_id, icon, summary, body as GVariant text (quotes and newlines escaped)
    assert argv[5:] == [
        '"modeld"',
        "0",
        '""',
        '"Quarantined evil.ckpt"',
        '"pickle imports \\"os.system\\"\\nline 2"',
        "[]",
        "{}",
        "-1",
    ]


def test_a_failing_notify_send_falls_back_to_gdbus(fake, caplog):
    fake.add("notify-send", exit_code=1)
    fake.add("gdbus")
    with caplog.at_level(logging.WARNING):
        assert NotificationSender(ALL_ON, platform="linux").send(NOTE) == "gdbus"
    assert len(fake.calls("notify-send")) == 1
    assert "notify-send failed (exit 1): notify-send says no" in caplog.text


def test_with_no_notification_service_the_log_line_is_all(fake, caplog):
    with caplog.at_level(logging.INFO, logger="modeld.tray.notify"):
        assert NotificationSender(ALL_ON, platform="linux").send(NOTE) == "log"
    assert "notification: Quarantined evil.ckpt: pickle imports" in caplog.text


def test_macos_uses_osascript_with_quotes_escaped(fake):
    fake.add("osascript")
    fake.add("notify-send")  # present but not a macOS tool: not used there
    assert NotificationSender(ALL_ON, platform="darwin").send(NOTE) == "osascript"
    assert fake.calls("notify-send") == []
    assert fake.calls("osascript") == [
        [
            "-e",
            'display notification "pickle imports \\"os.system\\"\nline 2" '
            'with title "modeld" subtitle "Quarantined evil.ckpt"',
        ]
    ]


def test_pystray_notify_is_used_first_where_the_backend_has_it(fake):
    fake.add("notify-send")
    shown = []
    sender = NotificationSender(
        ALL_ON, icon_notify=lambda message, title: shown.append((title, message)), platform="linux"
    )
    assert sender.send(NOTE) == "pystray"
    assert shown == [(NOTE.title, NOTE.body)]
    assert fake.calls("notify-send") == []


def test_a_broken_pystray_notify_falls_back_to_the_desktop_service(fake):
    fake.add("notify-send")

    def broken(message: str, title: str) -> None:
        raise RuntimeError("no D-Bus session")

    sender = NotificationSender(ALL_ON, icon_notify=broken, platform="linux")
    assert sender.send(NOTE) == "notify-send"
