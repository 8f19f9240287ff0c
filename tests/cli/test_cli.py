"""The `modeld` command line as a user runs it: a real subprocess, real files."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests import modelfiles


def test_version_and_usage_errors(cli):
    version = cli.run("--version")
    assert version.stdout.startswith("modeld ")
    bad = cli.run("frobnicate", check=False)
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr


def test_import_search_show_list_round_trip(cli, drop):
    modelfiles.llm_gguf(drop / "Llama-3-8B-Instruct.Q4_K_M.gguf")
    modelfiles.lora(drop / "detail_tweaker.safetensors")
    report = cli.json("import", str(drop))
    assert sorted(report) == ["duplicates", "failed", "imported", "quarantined"]
    assert len(report["imported"]) == 2
    assert list(drop.iterdir()) == []

    for term in ("instruct", "llama", "q4_k_m", "struc"):
        found = cli.json("search", term)
        assert [m["name"] for m in found] == ["Llama-3-8B-Instruct.Q4_K_M"], term
    assert [m["model_type"] for m in cli.json("search", "--type", "lora")] == ["lora"]
    assert len(cli.json("list")) == 2

    llm = next(m for m in report["imported"] if m["format"] == "gguf")
    shown = cli.json("show", llm["id"][:6])
    assert shown["id"] == llm["id"]
    assert shown["links"] == []
    assert shown["original_names"] == ["Llama-3-8B-Instruct.Q4_K_M.gguf"]
    human = cli.run("show", llm["id"]).stdout
    assert "Llama-3-8B-Instruct.Q4_K_M" in human and llm["sha256"] in human
    assert cli.json("show", "detail_tweaker")["model_type"] == "lora"  # by its name
    missing = cli.run("show", "no-such-model", check=False)
    assert missing.returncode == 1
    assert (
        missing.stderr == "modeld: no model with id or name 'no-such-model' (see `modeld list`)\n"
    )


def test_copy_keeps_sources_and_reimport_is_a_duplicate(cli, drop):
    source = modelfiles.vae(drop / "vae.safetensors")
    first = cli.json("import", "--copy", str(source))
    second = cli.json("import", "--copy", str(source))
    assert source.exists()
    assert second["duplicates"] == [{"path": str(source), "id": first["imported"][0]["id"]}]


def test_refusals_are_reported_with_reasons(cli, drop):
    (drop / "page.safetensors").write_text("<!doctype html><html>not a model</html>")
    (drop / "empty.gguf").write_bytes(b"")
    result = cli.run("import", str(drop), "--json", check=False)
    assert result.returncode == 1  # nothing imported, something failed
    report = json.loads(result.stdout)
    reasons = {Path(item["path"]).name: item["reason"] for item in report["failed"]}
    assert set(reasons) == {"page.safetensors", "empty.gguf"}
    assert "HTML" in reasons["page.safetensors"]
    assert "empty" in reasons["empty.gguf"]
    assert (drop / "page.safetensors").exists()
    human = cli.run("import", str(drop), check=False)
    assert human.returncode == 1 and "page.safetensors" in human.stderr


def test_a_dangerous_pickle_is_quarantined_and_listed(cli, drop, home):
    marker = home / "pwned"
    modelfiles.write_torch_zip_pickle(
        drop / "evil.ckpt", modelfiles.dangerous_pickle("os.system", marker)
    )
    report = cli.json("import", str(drop))
    assert [Path(q["path"]).name for q in report["quarantined"]] == ["evil.ckpt"]
    listed = cli.json("quarantine", "list")
    assert len(listed) == 1 and listed[0]["reason"]
    assert Path(listed[0]["quarantined_path"]).exists()
    assert not marker.exists()


def test_non_utf8_names_still_give_valid_json(cli, drop):
    name = os.fsencode(drop) + b"/bad-\xff-name.safetensors"
    modelfiles.lora(Path(os.fsdecode(name)))
    result = cli.run("import", str(drop), "--json", check=False)
    document = json.loads(result.stdout)  # valid JSON despite the undecodable name
    # imported, never refused for its name (the contract), under a readable name
    assert result.returncode == 0 and document["failed"] == []
    [model] = document["imported"]
    assert model["name"] == "bad-\\xff-name"
    assert Path(model["files"][0]["path"]).name == "bad-_-name.safetensors"


def test_verify_reports_a_changed_file(cli, drop):
    modelfiles.lora(drop / "a.safetensors")
    model = cli.json("import", str(drop))["imported"][0]
    assert cli.json("verify")["mismatched"] == []
    stored = Path(model["files"][0]["path"])
    with open(stored, "r+b") as handle:
        handle.seek(-1, os.SEEK_END)
        handle.write(b"\x01")
    result = cli.run("verify", "--json", check=False)
    assert result.returncode == 1
    assert [item["path"] for item in json.loads(result.stdout)["mismatched"]] == [str(stored)]


def test_remove_needs_yes_then_deletes_files_and_records(cli, drop):
    modelfiles.lora(drop / "a.safetensors")
    model = cli.json("import", str(drop))["imported"][0]
    refused = cli.run("remove", model["id"], check=False, stdin=subprocess.DEVNULL)
    assert refused.returncode == 1 and "--yes" in refused.stderr
    assert Path(model["path"]).exists()
    cli.run("remove", model["id"], "--yes")
    assert not Path(model["path"]).exists()
    assert cli.json("list") == []
    missing = cli.run("show", model["id"], check=False)
    assert missing.returncode == 1 and "no model" in missing.stderr


def test_scan_deep_rebuilds_after_the_index_is_deleted(cli, drop, config):
    modelfiles.lora(drop / "a.safetensors")
    modelfiles.vae(drop / "b.safetensors")
    cli.json("import", str(drop))
    before = cli.json("list")
    assert len(before) == 2
    for suffix in ("", "-wal", "-shm"):
        Path(str(config.index_path) + suffix).unlink(missing_ok=True)
    assert cli.json("list") == []
    report = cli.json("scan", "--deep")
    assert report["indexed"] == 2
    after = cli.json("list")
    key = lambda m: (m["id"], m["sha256"], m["blake3"], m["path"])  # noqa: E731
    assert sorted(map(key, after)) == sorted(map(key, before))


def test_config_path_and_show(cli, config_path):
    assert cli.json("config", "path") == {"path": str(config_path), "exists": True}
    shown = cli.json("config", "show")
    assert shown["hub"]["enabled"] is False
    assert shown["library_root"].endswith("library")


def test_invalid_config_is_one_line_not_a_traceback(cli, config_path):
    config_path.write_text(config_path.read_text() + "\n[tray]\nenabled = 'yes'\n")
    result = cli.run("list", check=False)
    assert result.returncode == 1
    assert "tray.enabled" in result.stderr and "line" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_permission_denied_is_a_specific_failure_and_the_source_stays(cli, drop):
    """Root may read and move anything, so the file is made immutable (chattr +i):
    the kernel then refuses the move with EPERM, as it would for a user's file
    in a folder they cannot write."""
    import pytest

    secret = modelfiles.lora(drop / "locked.safetensors")
    data = secret.read_bytes()
    locked = subprocess.run(["chattr", "+i", str(secret)], capture_output=True, check=False)
    if locked.returncode != 0:
        pytest.skip(f"cannot make a file immutable here: {locked.stderr.decode().strip()}")
    try:
        result = cli.run("import", str(secret), "--json", check=False)
        document = json.loads(result.stdout)
        assert result.returncode == 1, result.stderr
        assert [f["reason"] for f in document["failed"]] == [f"permission denied: {secret}"]
        assert secret.read_bytes() == data
        assert cli.json("list") == []
    finally:
        subprocess.run(["chattr", "-i", str(secret)], check=False)


def test_an_unknown_app_kind_stops_run_and_links_with_the_line_named(home: Path):
    from tests.conftest import Cli, write_config

    config = write_config(home, f'\n[[app]]\nkind = "comfyiu"\npath = "{home / "ComfyUI"}"\n')
    cli = Cli(config)
    line = config.read_text().splitlines().index('kind = "comfyiu"') + 1
    for args in (("run",), ("links", "sync"), ("links", "check")):
        result = cli.run(*args, check=False)
        assert result.returncode == 1, args
        assert result.stderr.strip() == (
            f"modeld: {config}:line {line}: app[0].kind: unknown app kind 'comfyiu' "
            "(known: a1111, comfyui, flat, lmstudio, textgen)"
        )
    assert cli.run("list").returncode == 0  # reading the library still works
