"""After-import steps run once per batch of new models: per commit in `import`, and
for the daemon's grouped units whatever committed while the last batch ran."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

from modeld.after_import import NewModel, StepQueue
from modeld.ingest.outcomes import Imported
from modeld.ingest.pipeline import Importer
from modeld.ingest.planner import plan_units
from modeld.library.metadata import ModelMeta
from tests import modelfiles

WAIT = 20.0


def tiny(folder: Path, name: str) -> Path:
    return modelfiles.write_safetensors(
        folder / f"{name}.safetensors", {"w": ("F32", [16])}, {"n": name}
    )


def test_an_import_runs_each_step_once_per_commit_with_its_models(config, index, drop):
    batches: list[list[str]] = []

    def step(models: Sequence[NewModel]) -> None:
        batches.append([m.meta.id for m in models])

    paths = [tiny(drop, f"m-{n}") for n in range(5)]
    report = Importer(config, after_import=[step]).import_paths(paths, copy=False)
    assert len(report.imported) == 5
    assert batches == [[model["id"] for model in report.imported]]


def test_grouped_units_finish_only_after_their_steps_ran(config, index, drop):
    ran: set[str] = set()

    def step(models: Sequence[NewModel]) -> None:
        ran.update(m.meta.id for m in models)

    importer = Importer(config, after_import=[step])
    units = [plan_units([tiny(drop, f"g-{n}")])[0][0] for n in range(6)]
    for future in [importer.submit_unit(unit, copy=False) for unit in units]:
        outcome = future.result(WAIT)
        assert isinstance(outcome, Imported)
        assert outcome.model["id"] in ran  # the job is over only once it is linked


def test_models_arriving_while_a_batch_runs_are_the_next_batch() -> None:
    first_running, release = threading.Event(), threading.Event()
    calls: list[list[str]] = []

    def run(models: list[NewModel]) -> None:
        calls.append([m.meta.id for m in models])
        first_running.set()
        assert release.wait(WAIT)

    queue = StepQueue(run)
    first = queue.submit(NewModel(meta("a"), None))
    assert first_running.wait(WAIT)
    rest = [queue.submit(NewModel(meta(name), None)) for name in "bcd"]
    assert not first.done() and not any(f.done() for f in rest)
    release.set()
    for future in [first, *rest]:
        future.result(WAIT)
    assert calls == [["a"], ["b", "c", "d"]]


def test_a_failing_run_still_finishes_its_models() -> None:
    def run(models: list[NewModel]) -> None:
        raise RuntimeError("links broke")

    done = StepQueue(run).submit(NewModel(meta("x"), None))
    assert done.exception(WAIT) is None  # the importer's run logs; the unit is not held


def meta(model_id: str) -> ModelMeta:
    return ModelMeta(model_id, model_id, "lora", "sd15", "safetensors", 0, "", "", [])
