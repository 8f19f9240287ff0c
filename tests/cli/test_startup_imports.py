"""A short command loads only what it uses (issue 13: CLI start-up).

Each check runs the real entry point (`python -m modeld ...`, through runpy)
in a fresh interpreter that writes `sys.modules` to a file at exit, so
whatever pulls a heavy module in (a group module, a module-level import, a
package `__init__`) shows up here. (`-X importtime` would miss modules loaded
through importlib.import_module, as the CLI loads its command groups.)
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from modeld.cli import COMMANDS, GROUPS, build_parser, command_word, groups_for
from tests.e2e.conftest import DaemonProcess
from tests.modelfiles import write_safetensors

# what search, status and an import through the daemon must not load
HEAVY = (
    "modeld.ingest",  # the pipeline, the format readers, identify
    "playhouse.sqlite_ext",  # peewee's FTS extension
    "huggingface_hub",
    "modeld.daemon.app",
)

TENSORS = {"w": ("F32", [4])}

# `python -m modeld ARGS`, then the loaded modules' names into the file argv[1]
RUN_AND_DUMP = """
import atexit, runpy, sys
out = sys.argv.pop(1)

def dump():
    with open(out, "w") as handle:
        handle.write("\\n".join(sys.modules))

atexit.register(dump)
runpy.run_module("modeld", run_name="__main__", alter_sys=True)
"""


def imported(config: Path, *args: str) -> tuple[set[str], str]:
    """Every module `modeld --config CONFIG ARGS` loaded (it must exit 0), and its output."""
    out = config.parent / "modules.txt"
    result = subprocess.run(
        [sys.executable, "-c", RUN_AND_DUMP, str(out), "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return set(out.read_text().split("\n")), result.stdout


def heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


@pytest.fixture
def daemon(home: Path):
    daemon = DaemonProcess(home)
    daemon.drop.mkdir()
    daemon.start()
    yield daemon
    daemon.stop()


def test_search_loads_neither_the_pipeline_nor_fts_nor_the_hub_nor_peewee(cli, home: Path):
    cli.run("import", str(write_safetensors(home / "llama-tiny.safetensors", TENSORS)))
    modules, output = imported(cli.config_path, "search", "--json", "llama")
    assert [model["name"] for model in json.loads(output)] == ["llama-tiny"]
    assert heavy(modules) == []
    assert "peewee" not in modules  # search reads the index on plain sqlite3
    groups = {m.removeprefix("modeld.cli.") for m in modules if m.startswith("modeld.cli.")}
    assert groups & set(GROUPS) == {"core"}  # search's group only


def test_status_and_an_import_through_the_daemon_load_only_the_control_client(
    daemon: DaemonProcess, home: Path
):
    modules, output = imported(daemon.config_path, "status", "--json")
    assert json.loads(output)["state"] == "running"
    assert heavy(modules) == []
    assert "peewee" not in modules  # status asks the daemon; it never opens the index

    tiny = write_safetensors(home / "tiny.safetensors", TENSORS)
    modules, output = imported(daemon.config_path, "import", "--json", str(tiny))
    assert [model["name"] for model in json.loads(output)["imported"]] == ["tiny"]
    assert heavy(modules) == []
    assert "modeld.cli.ingest" in modules


def test_every_command_is_registered_by_the_group_that_commands_names():
    def registered(groups: tuple[str, ...]) -> list[str]:
        (subparsers,) = [a for a in build_parser(groups)._actions if a.dest == "command"]
        return list(subparsers.choices)

    for group in GROUPS:
        commands = [c for c, g in COMMANDS.items() if g == group]
        assert registered(groups_for(commands[-1])) == commands, group
    assert registered(groups_for("bogus")) == list(COMMANDS)  # so the error lists them all
    assert registered(groups_for(None)) == []  # `modeld --version`


def test_help_without_a_command_lists_every_command_in_order(cli):
    modules, output = imported(cli.config_path, "--help")
    listed = [line.split()[0] for line in output.splitlines() if line.startswith("    ")]
    assert listed == list(COMMANDS)
    modules, output = imported(cli.config_path, "--version")
    assert output.startswith("modeld ")
    assert {m for m in modules if m.startswith("modeld.cli.")} == {
        "modeld.cli.context",
        "modeld.cli.errors",
    }  # no command group


@pytest.mark.parametrize(
    ("argv", "word"),
    [
        (["search", "--json"], "search"),
        (["--config", "status", "search"], "search"),  # a config file named like a command
        (["--config=/c.toml", "-v", "status"], "status"),
        (["--conf", "/c.toml", "status"], "status"),  # argparse takes an abbreviation
        (["-v", "--json"], None),
        (["--config"], None),  # no value: the full parser says so
        ([], None),
    ],
)
def test_the_command_word_is_found_past_the_global_options(argv, word):
    assert command_word(argv) == word
