"""`modeld import` output as the import goes: the --json document written piece by
piece is the one print_json writes whole; text lines appear as outcomes happen."""

from __future__ import annotations

import io
import json

import pytest

from modeld.cli.context import print_json
from modeld.cli.import_output import JsonOutput, TextOutput, print_document
from modeld.cli.progress import ProgressLine
from modeld.ingest.outcomes import (
    Attached,
    Duplicate,
    Failed,
    Imported,
    ImportReport,
    Outcome,
    Quarantined,
    Waiting,
)


def model(n: int, name: str) -> dict:
    return {
        "id": f"{n:016x}",
        "name": name,
        "model_type": "lora",
        "family": "sdxl",
        "files": [{"name": f"{name}.safetensors", "size": n, "tags": []}],
        "hub": None,
        "labels": {"nested": {"deeper": [1, 2.5, True]}},
    }


MIXED: list[Outcome] = [
    Failed("/drop/LICENSE", "not a model file (LICENSE), and no model beside it"),
    Imported("/drop/a.safetensors", model(1, "a")),
    Waiting("/drop/cut.safetensors", "truncated: tensors need 4096 bytes"),
    Duplicate("/drop/b.safetensors", "00000000000000aa"),
    Imported("/drop/caf\u00e9.safetensors", model(2, "caf\u00e9 \u2603 \udcff\nnew")),
    Quarantined("/drop/evil.pt", "pickle imports os.system"),
    Attached("/drop/a.preview.png", model(1, "a")),
    Failed("/drop/notes.safetensors", 'a text file, not a model: "quoted"'),
]


def whole(outcomes: list[Outcome], capsys: pytest.CaptureFixture[str]) -> str:
    report = ImportReport()
    for outcome in outcomes:
        report.add(outcome)
    print_json(report.to_json())
    return capsys.readouterr().out


@pytest.mark.parametrize(
    "outcomes",
    [MIXED, [], MIXED[1:2], [MIXED[0]], [MIXED[2]]],
    ids=["mixed", "nothing", "one-import", "one-failure", "one-waiting"],
)
def test_the_streamed_document_is_the_one_print_json_writes(
    outcomes: list[Outcome], capsys: pytest.CaptureFixture[str]
) -> None:
    stream = io.StringIO()
    output = JsonOutput(stream)
    for outcome in outcomes:
        output.add(outcome)
    output.finish()
    assert stream.getvalue() == whole(outcomes, capsys)
    json.loads(stream.getvalue())  # one valid document


def test_imported_models_are_written_as_they_come_and_not_kept() -> None:
    stream = io.StringIO()
    output = JsonOutput(stream)
    output.add(MIXED[1])
    assert '"name": "a"' in stream.getvalue()  # before the import is over
    output.add(MIXED[0])
    assert output.imported == 1 and output.failed == 1
    assert output.others["duplicates"] == [] and len(output.others["failed"]) == 1


def test_text_lines_are_printed_as_outcomes_happen(capsys: pytest.CaptureFixture[str]) -> None:
    output = TextOutput(ProgressLine(enabled=False))
    output.add(MIXED[1])
    assert capsys.readouterr().out == "imported  0000000000000001  lora/sdxl  a\n"
    output.add(MIXED[0])
    output.add(MIXED[2])
    assert capsys.readouterr().err == (
        "failed    /drop/LICENSE: not a model file (LICENSE), and no model beside it\n"
        "failed    /drop/cut.safetensors: truncated: tensors need 4096 bytes\n"
    )
    output.finish()
    assert capsys.readouterr().out == ""
    assert (output.imported, output.failed) == (1, 2)


def test_text_output_of_nothing_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    output = TextOutput(ProgressLine(enabled=False))
    output.finish()
    assert capsys.readouterr().out == "nothing to import\n"


def test_a_line_goes_below_a_drawn_progress_bar(capsys: pytest.CaptureFixture[str]) -> None:
    bar = io.StringIO()
    progress = ProgressLine(enabled=True, stream=bar)
    progress.start("a.safetensors", 10)
    progress.update(10, 10)
    TextOutput(progress).add(MIXED[1])
    assert bar.getvalue().endswith("\n")  # the bar's line ended before ours was printed


def test_the_daemons_document_prints_the_same_lines(capsys: pytest.CaptureFixture[str]) -> None:
    report = ImportReport()
    for outcome in MIXED:
        if outcome is not MIXED[4]:  # (a name that is not UTF-8 is --json's to carry)
            report.add(outcome)
    print_document(report.to_json())
    printed = capsys.readouterr()
    assert printed.out.splitlines() == [
        "imported  0000000000000001  lora/sdxl  a",
        "imported  0000000000000001  lora/sdxl  a",
        "duplicate 00000000000000aa  /drop/b.safetensors",
        "quarantined  /drop/evil.pt: pickle imports os.system",
    ]
    assert len(printed.err.splitlines()) == 3
