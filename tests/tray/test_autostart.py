"""The XDG autostart entry that starts `modeld tray` with the graphical session."""

from __future__ import annotations

import configparser
import shlex
import subprocess
from pathlib import Path

from modeld.cli import build_parser
from tests.tray.xserver import require

DESKTOP_FILE = Path(__file__).parents[2] / "packaging" / "modeld-tray.desktop"


def entry() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keys are case-sensitive
    parser.read_string(DESKTOP_FILE.read_text(encoding="utf-8"))
    return parser["Desktop Entry"]


def test_desktop_file_validates():
    validate = require("desktop-file-validate", "desktop-file-utils")
    result = subprocess.run([validate, str(DESKTOP_FILE)], capture_output=True, text=True)
    # it exits 0 on mere hints and warnings: silence is the pass
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_it_starts_modeld_tray_hidden_from_menus():
    desktop = entry()
    assert desktop["Type"] == "Application"
    assert desktop["NoDisplay"] == "true"
    assert desktop["Terminal"] == "false"
    argv = shlex.split(desktop["Exec"])
    assert Path(argv[0]).name == "modeld"
    args = build_parser().parse_args(argv[1:])
    assert args.command == "tray"
