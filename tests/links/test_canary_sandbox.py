"""The canary against a kernel that really refuses symlinks (Landlock): hardlinks are chosen."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.links import landlock
from tests.links.conftest import app_config, comfy_app
from tests.links.library import add_model

pytestmark = pytest.mark.skipif(not landlock.available(), reason="needs Linux Landlock")

REPO = Path(__file__).resolve().parents[2]

CHILD = """
import json, sys
from tests.links.landlock import deny_symlinks
deny_symlinks(allow_links_across_folders=sys.argv[2] == "yes")
from modeld.config import load_config
from modeld.library.db import open_index
from modeld.links import LinkManager
from modeld.links.canary import probe
config = load_config(sys.argv[1])
open_index(config.index_path)
report = LinkManager(config).sync_all()
folder = config.apps[0].path / "models"
report["probe"] = probe(str(folder), str(config.library_root / ".modeld")).__dict__
print(json.dumps(report))
"""


def _sync_without_symlinks(config_path: Path, links_across_folders: bool = True) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(config_path), "yes" if links_across_folders else "no"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_no_symlinks_means_hardlinks_decided_by_the_canary(home, comfy, lconfig):
    lora = add_model(lconfig, "style", "lora")
    report = _sync_without_symlinks(lconfig.source)
    assert report["probe"]["symlink"] is False and report["probe"]["hardlink"] is True
    link = comfy / "models" / "loras" / "style.safetensors"
    assert not link.is_symlink() and os.stat(link).st_ino == os.stat(lora.path()).st_ino
    assert report["apps"][0]["link"] == "hardlink" and report["created"] == 1


def test_no_symlinks_and_another_file_system_is_a_clear_error(home, index):
    shm = Path(tempfile.mkdtemp(prefix="modeld-links-", dir="/dev/shm"))
    try:
        (shm / "ComfyUI" / "models" / "loras").mkdir(parents=True)
        config = app_config(home, comfy_app(shm / "ComfyUI"))
        add_model(config, "style", "lora")
        report = _sync_without_symlinks(config.source)
        [problem] = report["problems"]
        assert "symlinks are not supported" in problem["reason"]
        assert "hardlinks cannot reach a library on another file system" in problem["reason"]
        assert os.listdir(shm / "ComfyUI" / "models" / "loras") == []
    finally:
        shutil.rmtree(shm)


def test_a_sandbox_refusing_both_links_nothing_and_says_why(home, comfy, lconfig):
    add_model(lconfig, "style", "lora")
    report = _sync_without_symlinks(lconfig.source, links_across_folders=False)
    assert report["probe"] == {
        "symlink": False,
        "hardlink": False,
        "detail": report["probe"]["detail"],
    }
    [problem] = report["problems"]
    assert "symlinks are not supported there" in problem["reason"]
    assert "hardlinks are not supported there" in problem["reason"]
    assert "Permission denied" in problem["reason"]
    assert os.listdir(comfy / "models" / "loras") == []
    assert report["created"] == 0
