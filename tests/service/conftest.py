from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from service_tools import unit_verifier


@pytest.fixture(scope="session")
def runtime_dir():
    """An XDG_RUNTIME_DIR: `systemd-analyze --user` refuses to work without one."""
    folder = tempfile.mkdtemp(dir="/tmp", prefix="xdgrt-")
    os.chmod(folder, 0o700)
    yield Path(folder)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def verify_units(runtime_dir):
    """Run `systemd-analyze --user verify` on unit files; returns (returncode, stderr)."""
    return unit_verifier(runtime_dir)


FAKE_TOOL = """#!{python}
# A stand-in for {name}: a real service manager cannot run on the test machine.
import json, sys
rules = json.load(open({rules!r}))
argv = sys.argv[1:]
with open({log!r}, "a") as log:
    log.write(json.dumps(["{name}", *argv]) + "\\n")
for prefix, returncode, output in rules:
    if argv[: len(prefix)] == prefix:
        print(output)
        sys.exit(returncode)
"""


class FakeTools:
    """Fake `systemctl` / `launchctl` programs first on PATH, answering by argv prefix."""

    def __init__(self, folder: Path, monkeypatch):
        self.folder = folder
        self.log = folder / "calls.jsonl"
        folder.mkdir(parents=True, exist_ok=True)
        monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ.get('PATH', '')}")

    def install(self, name: str, rules: list[tuple[list[str], int, str]]) -> None:
        import json
        import sys

        rules_file = self.folder / f"{name}.rules.json"
        rules_file.write_text(json.dumps(rules))
        script = self.folder / name
        script.write_text(
            FAKE_TOOL.format(
                python=sys.executable, name=name, rules=str(rules_file), log=str(self.log)
            )
        )
        script.chmod(0o755)

    def calls(self) -> list[list[str]]:
        import json

        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def clear(self) -> None:
        self.log.unlink(missing_ok=True)


@pytest.fixture
def fake_tools(tmp_path, monkeypatch):
    return FakeTools(tmp_path / "fakebin", monkeypatch)
