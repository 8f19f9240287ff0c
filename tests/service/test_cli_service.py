"""`modeld service install|uninstall|status`, run through the real CLI in a temp HOME.

No service manager can run on the test machine (systemd is not PID 1 here,
launchctl is macOS-only), so `systemctl` and `launchctl` are small fake
programs first on PATH that log their arguments (see conftest.FakeTools);
everything else is real: files, the install record, the control socket.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import sys
import tempfile
import threading
from pathlib import Path

import pytest

import modeld.cli.service as service_cli
from modeld.cli import main
from modeld.control.protocol import decode, encode
from modeld.service.plan import Host

SYSTEMD_UP = [
    (["--user", "show", "--property=Version"], 0, "Version=252.38-1~deb12u1"),
    (["--user", "is-active", "graphical-session.target"], 3, "inactive"),
]
LAUNCHD_UP = [(["print", "gui/501"], 0, "gui/501 = {\n}")]

EXPECTED_DAEMON_UNIT = """\
[Unit]
Description=modeld: keeps a local AI model collection in order
StartLimitIntervalSec=300
StartLimitBurst=5

[Service]
Type=notify
NotifyAccess=main
ExecStart={python} -m modeld --config "{config}" run
Restart=on-failure
RestartSec=5
TimeoutStartSec=90
TimeoutStopSec=30
WatchdogSec=60
Environment=PYTHONUNBUFFERED=1
SyslogIdentifier=modeld
Nice=10
IOSchedulingClass=best-effort
IOSchedulingPriority=7
NoNewPrivileges=yes
LockPersonality=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
RestrictNamespaces=yes
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallErrorNumber=EPERM
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK

[Install]
WantedBy=default.target
"""

EXPECTED_TRAY_UNIT = """\
[Unit]
Description=modeld tray icon
PartOf=graphical-session.target
Requisite=graphical-session.target
After=graphical-session.target modeld.service
Wants=modeld.service

[Service]
Type=exec
ExecStart={python} -m modeld --config "{config}" tray
Restart=on-failure
RestartSec=5
Environment=PYTHONUNBUFFERED=1
SyslogIdentifier=modeld-tray
NoNewPrivileges=yes
LockPersonality=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
SystemCallArchitectures=native

[Install]
WantedBy=graphical-session.target
"""


@pytest.fixture
def home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for name in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "MODELD_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture
def config_file(tmp_path):
    """A config in a folder with a space; state in a short /tmp path for the socket."""
    state = Path(tempfile.mkdtemp(dir="/tmp", prefix="msvc-"))
    path = tmp_path / "my config" / "config.toml"
    path.parent.mkdir()
    path.write_text(f'[library]\nroot = "{tmp_path / "lib"}"\n\n[daemon]\nstate_dir = "{state}"\n')
    yield path
    shutil.rmtree(state, ignore_errors=True)


@pytest.fixture
def mac_host(home, monkeypatch):
    host = Host(platform="darwin", home=home, uid=501, environ={})
    monkeypatch.setattr(service_cli, "current_host", lambda: host)
    return host


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def files_under(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()}


# -- install --dry-run ----------------------------------------------------------


def test_dry_run_on_linux_shows_exactly_the_files_and_commands(
    capsys, home, config_file, fake_tools
):
    fake_tools.install("systemctl", SYSTEMD_UP)
    code, out, err = run_cli(
        capsys, "--config", str(config_file), "service", "install", "--dry-run", "--json"
    )
    assert code == 0, err
    document = json.loads(out)
    assert document["manager"] == "systemd"
    assert document["dry_run"] is True

    units = home / ".config/systemd/user"
    record_path = home / ".local/state/modeld/service-install.json"
    daemon_text = EXPECTED_DAEMON_UNIT.format(python=sys.executable, config=config_file)
    tray_text = EXPECTED_TRAY_UNIT.format(python=sys.executable, config=config_file)
    writes = {a["path"]: a["content"] for a in document["actions"] if a["action"] == "write"}
    assert set(writes) == {
        str(units / "modeld.service"),
        str(units / "modeld-tray.service"),
        str(record_path),
    }
    assert writes[str(units / "modeld.service")] == daemon_text
    assert writes[str(units / "modeld-tray.service")] == tray_text
    record = json.loads(writes[str(record_path)])
    assert record["services"] == ["modeld.service", "modeld-tray.service"]
    assert record["files"] == {
        str(units / "modeld.service"): hashlib.sha256(daemon_text.encode()).hexdigest(),
        str(units / "modeld-tray.service"): hashlib.sha256(tray_text.encode()).hexdigest(),
    }

    runs = [a["argv"] for a in document["actions"] if a["action"] == "run"]
    assert runs == [
        ["systemctl", "--user", "daemon-reload"],
        ["systemctl", "--user", "enable", "modeld.service", "modeld-tray.service"],
        ["systemctl", "--user", "restart", "modeld.service"],
    ]
    assert any("graphical session" in note for note in document["notes"])
    # a dry run writes nothing and changes nothing: only read-only questions were asked
    assert files_under(home) == set()
    assert {tuple(c[1:3]) for c in fake_tools.calls()} <= {
        ("--user", "show"),
        ("--user", "is-active"),
    }


def test_dry_run_human_output_lists_the_unit_text(capsys, home, fake_tools):
    fake_tools.install("systemctl", SYSTEMD_UP)
    code, out, _ = run_cli(capsys, "service", "install", "--dry-run", "--no-tray")
    assert code == 0
    assert f"would write {home}/.config/systemd/user/modeld.service" in out
    assert f"    ExecStart={sys.executable} -m modeld run" in out
    assert "would run systemctl --user restart modeld.service" in out
    assert "modeld-tray" not in out
    assert files_under(home) == set()


def test_dry_run_on_macos_shows_exactly_the_plists(capsys, mac_host, config_file, fake_tools):
    fake_tools.install("launchctl", LAUNCHD_UP)
    code, out, err = run_cli(
        capsys, "--config", str(config_file), "service", "install", "--dry-run", "--json"
    )
    assert code == 0, err
    document = json.loads(out)
    assert document["manager"] == "launchd"
    home = mac_host.home
    agents = home / "Library/LaunchAgents"
    writes = {a["path"]: a["content"] for a in document["actions"] if a["action"] == "write"}
    assert set(writes) == {
        str(agents / "org.modeld.daemon.plist"),
        str(agents / "org.modeld.tray.plist"),
        str(home / "Library/Application Support/modeld/service-install.json"),
    }
    import plistlib

    daemon = plistlib.loads(writes[str(agents / "org.modeld.daemon.plist")].encode())
    assert daemon["ProgramArguments"] == [
        sys.executable,
        "-m",
        "modeld",
        "--config",
        str(config_file),
        "run",
    ]
    assert daemon["StandardErrorPath"] == f"{home}/Library/Logs/modeld/daemon.stderr.log"
    mkdirs = [a["path"] for a in document["actions"] if a["action"] == "mkdir"]
    assert mkdirs == [str(home / "Library/Logs/modeld")]
    runs = [a["argv"] for a in document["actions"] if a["action"] == "run"]
    assert runs == [
        ["launchctl", "bootout", "gui/501/org.modeld.daemon"],
        ["launchctl", "enable", "gui/501/org.modeld.daemon"],
        ["launchctl", "bootstrap", "gui/501", str(agents / "org.modeld.daemon.plist")],
        ["launchctl", "bootout", "gui/501/org.modeld.tray"],
        ["launchctl", "enable", "gui/501/org.modeld.tray"],
        ["launchctl", "bootstrap", "gui/501", str(agents / "org.modeld.tray.plist")],
    ]
    assert any("Full Disk Access" in note for note in document["notes"])
    assert files_under(home) == set()


# -- install and uninstall --------------------------------------------------------


def test_install_then_uninstall_removes_only_what_install_wrote(
    capsys, home, config_file, fake_tools
):
    fake_tools.install("systemctl", SYSTEMD_UP)
    units = home / ".config/systemd/user"
    units.mkdir(parents=True)
    theirs = units / "syncthing.service"
    theirs.write_text("[Service]\nExecStart=/usr/bin/syncthing\n")
    dropin = units / "modeld.service.d" / "override.conf"
    dropin.parent.mkdir()
    dropin.write_text("[Service]\nEnvironment=HF_HUB_OFFLINE=1\n")

    code, out, err = run_cli(capsys, "--config", str(config_file), "service", "install")
    assert code == 0, err
    assert "journalctl --user -u modeld" in out
    daemon_text = EXPECTED_DAEMON_UNIT.format(python=sys.executable, config=config_file)
    assert (units / "modeld.service").read_text() == daemon_text
    assert (units / "modeld-tray.service").exists()
    assert (home / ".local/state/modeld/service-install.json").exists()
    changing = [c[2:] for c in fake_tools.calls() if c[2] not in ("show", "is-active")]
    assert changing == [
        ["daemon-reload"],
        ["enable", "modeld.service", "modeld-tray.service"],
        ["restart", "modeld.service"],
    ]

    fake_tools.clear()
    code, out, err = run_cli(capsys, "service", "uninstall")
    assert code == 0, err
    assert files_under(home) == {theirs, dropin}
    assert [c[2:] for c in fake_tools.calls()] == [
        ["disable", "--now", "modeld.service", "modeld-tray.service"],
        ["daemon-reload"],
        ["reset-failed", "modeld.service", "modeld-tray.service"],
    ]

    code, out, _ = run_cli(capsys, "service", "uninstall")
    assert code == 0
    assert "not installed" in out


def test_reinstall_without_the_tray_takes_the_tray_unit_away(capsys, home, fake_tools):
    fake_tools.install("systemctl", SYSTEMD_UP)
    assert run_cli(capsys, "service", "install")[0] == 0
    tray = home / ".config/systemd/user/modeld-tray.service"
    assert tray.exists()
    fake_tools.clear()

    assert run_cli(capsys, "service", "install", "--no-tray")[0] == 0
    assert not tray.exists()
    assert ["systemctl", "--user", "disable", "--now", "modeld-tray.service"] in fake_tools.calls()
    record = json.loads((home / ".local/state/modeld/service-install.json").read_text())
    assert record["services"] == ["modeld.service"]


def test_a_failed_start_is_reported_and_leaves_a_record_to_uninstall(capsys, home, fake_tools):
    fake_tools.install(
        "systemctl",
        [
            *SYSTEMD_UP,
            (
                ["--user", "restart"],
                1,
                "Job for modeld.service failed because the control process exited with error code.",
            ),
        ],
    )
    code, _, err = run_cli(capsys, "service", "install")
    assert code == 1
    assert "install failed: run systemctl --user restart modeld.service" in err
    assert "control process exited" in err
    assert (home / ".config/systemd/user/modeld.service").exists()

    assert run_cli(capsys, "service", "uninstall")[0] == 0
    assert files_under(home) == set()


def test_no_user_systemd_says_what_to_do_instead_and_writes_nothing(
    capsys, home, monkeypatch, tmp_path
):
    # the real systemctl, with no user manager reachable (no runtime dir, no bus)
    if shutil.which("systemctl") is None:
        pytest.skip("systemctl is not installed")
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    code, _, err = run_cli(capsys, "service", "install")
    assert code == 1
    assert "no systemd user instance answers" in err
    assert "loginctl enable-linger" in err
    assert f"Exec={sys.executable} -m modeld run" in err
    assert files_under(home) == set()


def test_an_interpreter_that_cannot_start_modeld_is_refused(capsys, home, fake_tools, monkeypatch):
    fake_tools.install("systemctl", SYSTEMD_UP)
    # e.g. modeld only importable from the current folder: the service could never start
    monkeypatch.setattr(
        "modeld.service.managers.current_launcher",
        lambda: (sys.executable, "-m", "modeld_is_not_here"),
    )
    code, _, err = run_cli(capsys, "service", "install")
    assert code == 1
    assert "cannot start modeld" in err
    assert "pipx install modeld" in err
    assert files_under(home) == set()


def test_an_invalid_config_is_refused_before_anything_is_written(capsys, home, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[daemon]\nrescan_minutes = 'often'\n")
    code, _, err = run_cli(capsys, "--config", str(bad), "service", "install")
    assert code == 1
    assert "rescan_minutes" in err
    assert files_under(home) == set()


def test_unit_files_without_a_record_are_left_alone(capsys, home, fake_tools):
    fake_tools.install("systemctl", SYSTEMD_UP)
    unit = home / ".config/systemd/user/modeld.service"
    unit.parent.mkdir(parents=True)
    unit.write_text("[Service]\nExecStart=/usr/local/bin/modeld run\n")
    code, _, err = run_cli(capsys, "service", "uninstall")
    assert code == 1
    assert "no install record" in err
    assert unit.exists()


def test_macos_install_then_uninstall(capsys, mac_host, fake_tools):
    fake_tools.install("launchctl", LAUNCHD_UP)
    home = mac_host.home
    code, out, err = run_cli(capsys, "service", "install")
    assert code == 0, err
    agents = home / "Library/LaunchAgents"
    logs = home / "Library/Logs/modeld"
    assert logs.is_dir()
    for label in ("org.modeld.daemon", "org.modeld.tray"):
        assert (agents / f"{label}.plist").exists()
    assert [c for c in fake_tools.calls() if c[1] == "bootstrap"] == [
        ["launchctl", "bootstrap", "gui/501", str(agents / "org.modeld.daemon.plist")],
        ["launchctl", "bootstrap", "gui/501", str(agents / "org.modeld.tray.plist")],
    ]
    assert "Full Disk Access" in out

    fake_tools.clear()
    assert run_cli(capsys, "service", "uninstall")[0] == 0
    assert [c[1:] for c in fake_tools.calls()] == [
        ["bootout", "gui/501/org.modeld.daemon"],
        ["bootout", "gui/501/org.modeld.tray"],
    ]
    assert not logs.exists()  # created by install, and empty
    assert files_under(home) == set()


def test_macos_uninstall_keeps_crash_logs(capsys, mac_host, fake_tools):
    fake_tools.install("launchctl", LAUNCHD_UP)
    assert run_cli(capsys, "service", "install", "--no-tray")[0] == 0
    crash = mac_host.home / "Library/Logs/modeld/daemon.stderr.log"
    crash.write_text("Traceback (most recent call last):\n")
    assert run_cli(capsys, "service", "uninstall")[0] == 0
    assert files_under(mac_host.home) == {crash}


# -- status -------------------------------------------------------------------------


class StatusServer:
    """A real unix socket answering `status` the way the daemon's control server does."""

    def __init__(self, path: Path, status: dict):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(path))
        self.sock.listen()
        self.status = status
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        connection, _ = self.sock.accept()
        with connection:
            line = connection.makefile("rb").readline()
            assert decode(line.rstrip(b"\n"))["cmd"] == "status"
            connection.sendall(encode({"ok": True, "result": self.status}))

    def close(self) -> None:
        self.sock.close()
        self.thread.join(5)


SHOW_ACTIVE = (
    "LoadState=loaded\nActiveState=active\nSubState=running\nUnitFileState=enabled\n"
    "MainPID=4242\nNRestarts=0\nResult=success\nStatusText=watching 1 folder\n"
)


def test_status_shows_both_views_and_exit_3_without_a_daemon(capsys, home, config_file, fake_tools):
    fake_tools.install(
        "systemctl", [*SYSTEMD_UP, (["--user", "show", "modeld.service"], 0, SHOW_ACTIVE)]
    )
    code, out, _ = run_cli(capsys, "--config", str(config_file), "service", "status", "--json")
    assert code == 3
    document = json.loads(out)
    assert document["available"] is True
    assert document["installed"] is False
    assert document["daemon"] is None
    assert document["services"]["modeld.service"]["ActiveState"] == "active"
    assert document["services"]["modeld.service"]["StatusText"] == "watching 1 folder"

    from modeld.config import load_config

    socket_path = load_config(config_file).socket_path
    daemon_status = {"state": "running", "pid": 4242, "watching": ["/w"], "imported": 7}
    server = StatusServer(socket_path, daemon_status)
    try:
        code, out, _ = run_cli(capsys, "--config", str(config_file), "service", "status")
    finally:
        server.close()
    assert code == 0
    assert "modeld.service: active (running), enabled, pid 4242: watching 1 folder" in out
    assert "daemon: running, pid 4242, watching 1 folder, 7 imported" in out
    assert "journalctl --user -u modeld" in out


def test_status_without_a_manager_says_so(capsys, home, config_file, fake_tools):
    fake_tools.install(
        "systemctl",
        [(["--user", "show"], 1, "Failed to connect to bus: No medium found")],
    )
    code, out, _ = run_cli(capsys, "--config", str(config_file), "service", "status", "--json")
    assert code == 3
    document = json.loads(out)
    assert document["available"] is False
    assert "Failed to connect to bus" in document["reason"]


def test_the_record_is_never_trusted_blindly(capsys, home, fake_tools):
    fake_tools.install("systemctl", SYSTEMD_UP)
    record = home / ".local/state/modeld/service-install.json"
    record.parent.mkdir(parents=True)
    record.write_text(json.dumps({"version": 1, "files": {"relative/path": "x"}}))
    code, _, err = run_cli(capsys, "service", "uninstall")
    assert code == 1
    assert "install record" in err
    assert os.path.exists(record)
