"""What follows each new or changed model, wherever it was imported.

The daemon and an in-process `modeld import` hand the same steps to the
Importer: link the models into the configured apps, then (in the daemon, when
the Hub is enabled) queue their Hub lookups. The importer runs them after a
commit, once for all the models that commit brought, and logs a step's failure
without undoing the import. A step takes the whole batch because linking opens
one write transaction per call: one per model cost ~18 ms each.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from modeld.library.metadata import ModelMeta


@dataclass(frozen=True)
class NewModel:
    """A model an import created or changed."""

    meta: ModelMeta
    details: Mapping[str, Any] | None  # the parsed header, when the import read one


AfterImport = Callable[[Sequence[NewModel]], None]
"""Called with the models one commit brought (never an empty batch)."""


class Links(Protocol):
    def sync_models(self, model_ids: Sequence[str]) -> Any: ...


class HubLookups(Protocol):
    def enqueue(self, model_id: str, details: Mapping[str, Any] | None = None) -> None: ...


def after_import_steps(links: Links | None, hub: HubLookups | None = None) -> list[AfterImport]:
    steps: list[AfterImport] = []
    if links is not None:
        steps.append(lambda models: links.sync_models([m.meta.id for m in models]))
    if hub is not None:

        def look_up(models: Sequence[NewModel]) -> None:
            for model in models:
                # the parsed header goes along, so enrichment does not read the file again
                hub.enqueue(model.meta.id, model.details)

        steps.append(look_up)
    return steps


class StepQueue:
    """Runs `run` on a thread of its own for the models handed in, a batch at a time.

    The daemon's units are committed in groups on the committer thread; their
    steps run here so the next commit does not wait for them. Whatever arrives
    while a batch runs is the next batch (as in the group commit): no timer,
    and one call of each step for many models when they come quickly.
    """

    def __init__(self, run: Callable[[list[NewModel]], None]):
        self._run = run
        self._lock = threading.Lock()
        self._pending: list[tuple[NewModel, Future[None]]] = []
        self._thread = ThreadPoolExecutor(1, "modeld-after-import")

    def submit(self, model: NewModel) -> Future[None]:
        """Completes once the steps ran for `model` (failed steps are logged by `run`)."""
        done: Future[None] = Future()
        with self._lock:
            first = not self._pending  # else a drain is scheduled and takes this one too
            self._pending.append((model, done))
        if first:
            try:
                self._thread.submit(self._drain)
            except RuntimeError:  # the interpreter is exiting: no new threads
                self._drain()
        return done

    def _drain(self) -> None:
        with self._lock:
            batch, self._pending = self._pending, []
        try:
            if batch:
                self._run([model for model, _ in batch])
        finally:
            for _, done in batch:
                done.set_result(None)
