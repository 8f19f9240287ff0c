"""sync_models: the links of a batch of imports in one transaction, none when nothing links."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from modeld.config import Config
from modeld.library import index as library_index
from modeld.library.db import database
from modeld.links import LinkManager
from modeld.links.registry import LinkRecord
from tests.links.conftest import app_config
from tests.links.library import add_model


@contextmanager
def statements() -> Iterator[list[str]]:
    """Every SQL statement SQLite runs on the index's connection meanwhile."""
    seen: list[str] = []
    connection = database.connection()
    connection.set_trace_callback(seen.append)
    try:
        yield seen
    finally:
        connection.set_trace_callback(None)


def begins(seen: list[str]) -> int:
    return sum(1 for statement in seen if statement.strip().upper().startswith("BEGIN"))


def test_a_batch_of_models_is_linked_in_one_transaction(lconfig: Config, comfy: Path) -> None:
    loras = [add_model(lconfig, f"lora-{n}", "lora") for n in range(3)]
    manager = LinkManager(lconfig)
    with statements() as seen:
        report = manager.sync_models([lora.id for lora in loras])
    assert begins(seen) == 1, seen
    assert report["created"] == 3 and report["models"] == 3
    for lora in loras:
        link = comfy / "models" / "loras" / f"{lora.meta.name}.safetensors"
        assert link.resolve() == lora.path().resolve()
    assert LinkRecord.select().count() == 3


def test_with_no_app_nothing_is_loaded_and_no_transaction_opened(
    lconfig: Config, home: Path
) -> None:
    lora = add_model(lconfig, "lonely", "lora")
    manager = LinkManager(app_config(home, "", name="no-apps.toml"))
    with statements() as seen:
        report = manager.sync_models([lora.id])
    assert begins(seen) == 0, seen
    assert not any('FROM "models"' in statement for statement in seen), seen
    assert report["created"] == 0 and report["apps"] == []


def test_with_no_app_a_gone_models_old_links_still_go(
    lconfig: Config, comfy: Path, home: Path
) -> None:
    lora = add_model(lconfig, "removed", "lora")
    LinkManager(lconfig).sync_models([lora.id])
    link = comfy / "models" / "loras" / "removed.safetensors"
    assert link.is_symlink()
    library_index.remove_model(lora.id)
    # the app left the config too: the model's registered link is still ours to remove
    report = LinkManager(app_config(home, "", name="no-apps.toml")).sync_models([lora.id])
    assert report["removed"] == 1
    assert not link.is_symlink() and LinkRecord.select().count() == 0
