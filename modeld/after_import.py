"""What follows each new or changed model, wherever it was imported.

The daemon and an in-process `modeld import` hand the same steps to the
Importer: link the model into the configured apps, then (in the daemon, when
the Hub is enabled) queue its Hub lookup. The importer runs them after the
commit and logs a step's failure without undoing the import.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from modeld.library.metadata import ModelMeta

AfterImport = Callable[["ModelMeta", Mapping[str, Any] | None], None]
"""Called with the model's metadata and the parsed header, when the import read one."""


class Links(Protocol):
    def sync_model(self, model_id: str) -> Any: ...


class HubLookups(Protocol):
    def enqueue(self, model_id: str, details: Mapping[str, Any] | None = None) -> None: ...


def after_import_steps(links: Links | None, hub: HubLookups | None = None) -> list[AfterImport]:
    steps: list[AfterImport] = []
    if links is not None:
        steps.append(lambda meta, details: links.sync_model(meta.id))
    if hub is not None:
        # the parsed header goes along, so enrichment does not read the file again
        steps.append(lambda meta, details: hub.enqueue(meta.id, details))
    return steps
