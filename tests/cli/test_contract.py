"""Details found by auditing the real CLI against CONTRACT.md: real files, real subprocess."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests import modelfiles


def test_a_named_file_leaves_a_sibling_that_only_shares_a_prefix(cli, drop):
    # `modeld import big.safetensors --json > bigimport.json` in the same folder:
    # the report file is the user's, not a companion of the model
    model = modelfiles.lora(drop / "big.safetensors")
    (drop / "big.preview.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (drop / "bigimport.json").write_text("{}")
    report = cli.json("import", str(model))
    [imported] = report["imported"]
    names = sorted(Path(f["path"]).name for f in imported["files"])
    assert names == ["big.preview.png", "big.safetensors"]
    assert not any(p.name.startswith("bigimport") for p in Path(imported["path"]).iterdir())
    assert (drop / "bigimport.json").read_text() == "{}"
    assert sorted(p.name for p in drop.iterdir()) == ["bigimport.json"]


def test_service_status_accepts_dry_run(cli, home):
    """`modeld service install|uninstall|status [--dry-run]`: status takes it too (a no-op)."""
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / "xdg-config"),
        "XDG_STATE_HOME": str(home / "xdg-state"),
    }
    plain = cli.run("service", "status", "--json", check=False, env=env)
    dry = cli.run("service", "status", "--dry-run", "--json", check=False, env=env)
    assert "Traceback" not in dry.stderr
    assert dry.returncode == plain.returncode == 3  # no daemon runs
    document = json.loads(dry.stdout)
    assert document["installed"] is False and document["daemon"] is None
    assert sorted(document) == sorted(json.loads(plain.stdout))
