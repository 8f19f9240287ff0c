"""`modeld links sync|check|repair` through the real entry point, in a subprocess."""

from __future__ import annotations

import json
import os

from tests.links.library import add_model


def test_links_commands_end_to_end(cli, lconfig, comfy):
    lora = add_model(lconfig, "style", "lora")
    ckpt = add_model(lconfig, "base", "checkpoint")

    synced = cli.json("links", "sync")
    assert synced["created"] == 2 and synced["library"] == "online"
    assert synced["apps"][0]["name"] == "comfyui" and synced["apps"][0]["version"] == "0.3.40"
    link = comfy / "models" / "loras" / "style.safetensors"
    assert link.resolve() == lora.path().resolve()

    checked = cli.json("links", "check")
    assert {"checked", "ok", "broken", "missing", "orphaned"} <= set(checked)
    assert (checked["checked"], checked["ok"]) == (2, 2)

    link.unlink()
    checked = cli.json("links", "check")
    assert [m["path"] for m in checked["missing"]] == [str(link)]
    assert checked["missing"][0]["status"] == "missing"

    repaired = cli.json("links", "repair")
    assert repaired["recreated"] == 1 and repaired["fixed"] == 1 and repaired["unfixed"] == 0
    assert link.is_symlink()

    human = cli.run("links", "check")
    assert human.stdout.startswith("2 links checked: 2 ok, 0 broken, 0 missing, 0 orphaned")
    assert os.path.lexists(comfy / "models" / "checkpoints" / "base.safetensors")
    assert ckpt.id


def test_links_check_prints_one_json_document_and_logs_to_stderr(cli, lconfig, comfy):
    add_model(lconfig, "style", "lora")
    mine = comfy / "models" / "loras" / "style.safetensors"
    mine.write_bytes(b"user file")
    result = cli.run("links", "sync", "--json")
    document = json.loads(result.stdout)  # exactly one document: json.loads would fail on more
    assert document["created"] == 1
    assert document["conflicts"][0]["resolution"] == "suffixed"
    assert "is taken by a file" in result.stderr  # the log line went to stderr
    assert mine.read_bytes() == b"user file"


def test_links_needs_an_action(cli, lconfig):
    result = cli.run("links", check=False)
    assert result.returncode == 2
