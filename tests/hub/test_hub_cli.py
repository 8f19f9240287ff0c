"""`modeld hub lookup` and the hub section of `modeld show`, as subprocesses."""

from __future__ import annotations

import json
from pathlib import Path

from modeld.config import Config
from modeld.ingest.pipeline import Importer
from tests.conftest import Cli
from tests.hub.fakehub import FakeHub
from tests.hub.wiring import hub_env, sdxl_file


def test_cli_hub_lookup_and_show(online: FakeHub, library: Config, drop: Path, home: Path):
    path = sdxl_file(drop, "Cli-Model")
    online.add_repo("org/Cli-Model", {path.name: path}, license="mit")
    lookalike = sdxl_file(drop, "Cli-Lookalike")
    online.add_repo("org/Cli-Lookalike", {lookalike.name: ("98" * 32, 1)})
    importer = Importer(library)
    [model] = importer.import_paths([path], copy=False).imported
    [other] = importer.import_paths([lookalike], copy=False).imported
    cli = Cli(home / "config.toml")

    result = cli.run("hub", "lookup", "--all", "--json", env=hub_env(online))
    document = json.loads(result.stdout)
    statuses = {r["id"]: r["status"] for r in document["results"]}
    assert statuses == {model["id"]: "confirmed", other["id"]: "unconfirmed"}

    shown = cli.run("show", model["id"], env=hub_env(online)).stdout
    assert "org/Cli-Model" in shown and "confirmed" in shown and "mit" in shown
    shown = cli.run("show", other["id"], env=hub_env(online)).stdout
    assert "unconfirmed" in shown and "org/Cli-Lookalike" in shown
    assert "same file name, different content" in shown

    single = cli.run("hub", "lookup", model["id"][:8], env=hub_env(online)).stdout
    assert "org/Cli-Model" in single

    # --refresh without a model asks again for every model, the confirmed one too
    refreshed = cli.run("hub", "lookup", "--refresh", "--json", env=hub_env(online))
    again = {r["id"]: (r["status"], r["cached"]) for r in json.loads(refreshed.stdout)["results"]}
    assert again == {model["id"]: ("confirmed", False), other["id"]: ("unconfirmed", False)}


def test_cli_hub_lookup_reports_disabled_and_unreachable(online: FakeHub, library, drop, home):
    cli = Cli(home / "config.toml")
    importer = Importer(library)
    importer.import_paths([sdxl_file(drop, "Unreachable-Model")], copy=False)
    online.down("refuse")
    result = cli.run("hub", "lookup", "--all", check=False, env=hub_env(online))
    assert result.returncode == 1
    assert "not finished" in result.stderr
    assert "pending" in result.stdout

    offline = {**hub_env(online), "HF_HUB_OFFLINE": "1"}
    result = cli.run("hub", "lookup", "--all", check=False, env=offline)
    assert result.returncode == 1
    assert "disabled" in result.stderr and "HF_HUB_OFFLINE" in result.stderr
    bare = cli.run("hub", "lookup", check=False, env=offline)  # the same as --all
    assert bare.returncode == 1 and "HF_HUB_OFFLINE" in bare.stderr
    both = cli.run("hub", "lookup", "abcd", "--all", check=False, env=offline)
    assert both.returncode == 2
