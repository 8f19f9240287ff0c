"""The rendered units, checked by systemd's own parser.

`systemd-analyze verify` exits 0 even for a misspelled key, so every check
here asserts that it printed nothing on stderr, and a control test proves a
typo does print something.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from modeld.service import systemd
from modeld.service.plan import ServiceSpec

REPO = Path(__file__).resolve().parents[2]


def write_units(folder: Path, spec: ServiceSpec) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    daemon = folder / systemd.DAEMON_UNIT
    tray = folder / systemd.TRAY_UNIT
    daemon.write_text(systemd.render_daemon_unit(spec))
    tray.write_text(systemd.render_tray_unit(spec))
    return daemon, tray


def test_installed_units_verify_without_a_word(tmp_path, verify_units):
    config = tmp_path / "my config" / "config.toml"
    spec = ServiceSpec.for_interpreter(sys.executable, config, tray=True)
    daemon, tray = write_units(tmp_path / "units", spec)
    assert verify_units(daemon, tray) == (0, "")


def test_verify_does_speak_up_about_a_typo(tmp_path, verify_units):
    # the control for the test above: a misspelled key must show on stderr
    spec = ServiceSpec.for_interpreter(sys.executable, None, tray=False)
    daemon, _ = write_units(tmp_path / "units", spec)
    daemon.write_text(daemon.read_text().replace("Restart=on-failure", "Restartt=on-failure"))
    returncode, stderr = verify_units(daemon)
    assert "Restartt" in stderr
    assert returncode == 0  # the trap: only stderr tells


def test_an_interpreter_path_full_of_unit_syntax_still_resolves(tmp_path, verify_units):
    # spaces split words, %h is a specifier, and $HOME would be a variable in an argument
    odd = tmp_path / "py env %h $HOME;"
    odd.mkdir()
    python = odd / "python"
    python.symlink_to(sys.executable)
    spec = ServiceSpec.for_interpreter(str(python), None, tray=False)
    daemon, _ = write_units(tmp_path / "units", spec)
    assert verify_units(daemon) == (0, "")

    # and naive, unquoted text does not: the check can tell the difference
    daemon.write_text(
        systemd.render_daemon_unit(spec).replace(
            systemd.command_line(spec.command("run")), f"{python} -m modeld run"
        )
    )
    returncode, stderr = verify_units(daemon)
    assert returncode == 1
    assert "is not executable" in stderr


def test_a_program_path_systemd_would_refuse_is_refused_first():
    for path in ("/home/o'brien/venv/bin/python", "/opt/back\\slash/python"):
        with pytest.raises(ValueError, match="quotes or backslashes"):
            systemd.command_line([path, "-m", "modeld", "run"])


@pytest.mark.parametrize(
    ("arg", "quoted"),
    [
        ("/usr/bin/python3", "/usr/bin/python3"),
        ("run", "run"),
        ("/home/a b/python", '"/home/a b/python"'),
        ("50%", "50%%"),
        ("$HOME", "$$HOME"),
        ('say "hi"', '"say \\"hi\\""'),
        ("back\\slash", '"back\\\\slash"'),
        ("", '""'),
    ],
)
def test_exec_arguments_are_quoted_for_systemd(arg, quoted):
    assert systemd.quote_arg(arg) == quoted


def test_the_program_path_is_quoted_but_not_variable_escaped():
    assert systemd.quote_arg("/a b/$x%/py", executable=True) == '"/a b/$x%%/py"'
    assert systemd.command_line(["/opt/py", "--config", "/c $x/m.toml", "run"]) == (
        '/opt/py --config "/c $$x/m.toml" run'
    )


def test_a_control_character_cannot_reach_a_unit_file():
    with pytest.raises(ValueError, match="control character"):
        systemd.quote_arg("/tmp/evil\n[Service]\nExecStartPre=/bin/rm")


def test_the_daemon_unit_carries_what_the_daemon_relies_on():
    spec = ServiceSpec.for_interpreter("/opt/venv/bin/python", Path("/etc/m.toml"), tray=True)
    unit = systemd.render_daemon_unit(spec)
    lines = set(unit.splitlines())
    assert "ExecStart=/opt/venv/bin/python -m modeld --config /etc/m.toml run" in lines
    for directive in (
        "Type=notify",
        "WatchdogSec=60",
        "Restart=on-failure",
        "StartLimitBurst=5",
        "TimeoutStopSec=30",
        "WantedBy=default.target",
    ):
        assert directive in lines
    # nothing that would hide the user's folders or need user namespaces
    for banned in ("ProtectHome", "ProtectSystem", "PrivateTmp", "PrivateUsers", "ReadOnlyPaths"):
        assert banned not in unit
    tray = systemd.render_tray_unit(spec)
    assert "ExecStart=/opt/venv/bin/python -m modeld --config /etc/m.toml tray" in tray
    assert "WantedBy=graphical-session.target" in tray
    assert "PartOf=graphical-session.target" in tray


def test_the_units_in_the_repository_are_the_rendered_ones():
    done = subprocess.run(
        [sys.executable, str(REPO / "packaging" / "render_units.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    shipped = (REPO / "systemd" / "modeld.service").read_text()
    assert "ExecStart=/usr/bin/modeld run" in shipped


def test_desktop_autostart_exec_quoting():
    assert systemd.desktop_exec(["/usr/bin/python3", "-m", "modeld", "run"]) == (
        "/usr/bin/python3 -m modeld run"
    )
    assert systemd.desktop_exec(["/a b/py", "50%"]) == '"/a b/py" 50%%'


def test_systemctl_show_output_is_parsed():
    output = "LoadState=loaded\nActiveState=active\nStatusText=watching 2 folders: a=b\n"
    assert systemd.parse_show(output) == {
        "LoadState": "loaded",
        "ActiveState": "active",
        "StatusText": "watching 2 folders: a=b",
    }
