"""The launchd agents: written with plistlib, read back, every key of the right type."""

from __future__ import annotations

import plistlib
from pathlib import Path

from modeld.service import launchd
from modeld.service.plan import ServiceSpec

REPO = Path(__file__).resolve().parents[2]
HOME = Path("/Users/ada")
PYTHON = "/Users/ada/.local/pipx/venvs/modeld/bin/python"
LOGS = HOME / "Library/Logs/modeld"


def round_trip(agent: dict) -> dict:
    data = launchd.dumps(agent)
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE plist')
    return plistlib.loads(data, fmt=plistlib.FMT_XML)


def assert_common_types(agent: dict) -> None:
    assert isinstance(agent["Label"], str)
    assert isinstance(agent["ProgramArguments"], list)
    assert all(isinstance(a, str) for a in agent["ProgramArguments"])
    assert agent["ProgramArguments"][0].startswith("/")  # launchd does not search PATH
    assert agent["RunAtLoad"] is True
    assert type(agent["ThrottleInterval"]) is int
    assert agent["KeepAlive"] == {"SuccessfulExit": False}
    assert type(agent["KeepAlive"]["SuccessfulExit"]) is bool
    env = agent["EnvironmentVariables"]
    assert isinstance(env, dict)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in env.items())
    for key in ("StandardOutPath", "StandardErrorPath"):
        assert isinstance(agent[key], str)
        assert agent[key].startswith("/")  # launchd does not expand ~


def test_daemon_agent_round_trips_with_the_right_types():
    spec = ServiceSpec.for_interpreter(PYTHON, Path("/Users/ada/m.toml"), tray=True)
    agent = round_trip(launchd.daemon_agent(spec, LOGS))
    assert agent == launchd.daemon_agent(spec, LOGS)
    assert_common_types(agent)
    assert agent["Label"] == "org.modeld.daemon"
    assert agent["ProgramArguments"] == [
        PYTHON,
        "-m",
        "modeld",
        "--config",
        "/Users/ada/m.toml",
        "run",
    ]
    assert agent["StandardErrorPath"] == "/Users/ada/Library/Logs/modeld/daemon.stderr.log"
    assert agent["EnvironmentVariables"]["PATH"].split(":")[0] == str(Path(PYTHON).parent)
    assert "LimitLoadToSessionType" not in agent  # the daemon also runs in ssh/background sessions


def test_tray_agent_is_limited_to_the_desktop_session():
    spec = ServiceSpec.for_interpreter(PYTHON, None, tray=True)
    agent = round_trip(launchd.tray_agent(spec, LOGS))
    assert_common_types(agent)
    assert agent["Label"] == "org.modeld.tray"
    assert agent["ProgramArguments"] == [PYTHON, "-m", "modeld", "tray"]
    assert agent["LimitLoadToSessionType"] == "Aqua"


def test_the_plists_in_the_repository_are_the_rendered_ones():
    for label in (launchd.DAEMON_LABEL, launchd.TRAY_LABEL):
        stored = plistlib.loads((REPO / "launchd" / f"{label}.plist").read_bytes())
        assert_common_types(stored)
        assert stored["Label"] == label


LAUNCHCTL_PRINT = """gui/501/org.modeld.daemon = {
\tactive count = 1
\tpath = /Users/ada/Library/LaunchAgents/org.modeld.daemon.plist
\ttype = LaunchAgent
\tstate = running

\tprogram = /Users/ada/.local/pipx/venvs/modeld/bin/python
\targuments = {
\t\t/Users/ada/.local/pipx/venvs/modeld/bin/python
\t\t-m
\t\tmodeld
\t\trun
\t}

\tstdout path = /Users/ada/Library/Logs/modeld/daemon.stdout.log
\tdefault environment = {
\t\tPATH => /usr/bin:/bin:/usr/sbin:/sbin
\t}

\truns = 2
\tpid = 4242
\timmediate reason = speculative
\tlast exit code = 1
}
"""


def test_launchctl_print_top_level_fields_are_read():
    # launchctl exists only on macOS: this is its output format, typed in
    fields = launchd.parse_print(LAUNCHCTL_PRINT)
    assert fields["state"] == "running"
    assert fields["pid"] == "4242"
    assert fields["runs"] == "2"
    assert fields["last exit code"] == "1"
    assert fields["path"] == "/Users/ada/Library/LaunchAgents/org.modeld.daemon.plist"
    assert "arguments" not in fields  # a nested block, not a value
    assert "PATH" not in fields
