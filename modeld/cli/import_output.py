"""What `modeld import` prints, as the import goes.

An in-process import hands each outcome to one of these sinks as it happens:
the text lines are printed then, and `--json` writes the contract's document
piece by piece, the imported models as they come and the other lists (a few
entries, usually) at the end. Nothing keeps the 20,000 model objects of a big
import until it is over, so its memory stays flat. An import through the
daemon gets the whole document back and prints it with the same lines.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TextIO

from modeld.cli.progress import ProgressLine

if TYPE_CHECKING:
    from modeld.ingest.outcomes import Outcome

# the document's lists after `imported`, in order; "waiting" entries close "failed"
OTHER_LISTS = ("duplicates", "quarantined", "failed")


def _line(key: str, entry: Mapping[str, Any]) -> str:
    match key:
        case "imported":
            return (
                f"imported  {entry['id']}  {entry['model_type']}/{entry['family']}  {entry['name']}"
            )
        case "duplicates":
            return f"duplicate {entry['id']}  {entry['path']}"
        case "quarantined":
            return f"quarantined  {entry['path']}: {entry['reason']}"
    return f"failed    {entry['path']}: {entry['reason']}"  # failed, or still waiting


def _print_line(key: str, entry: Mapping[str, Any]) -> None:
    failed = key in ("failed", "waiting")
    print(_line(key, entry), file=sys.stderr if failed else sys.stdout)


def print_document(document: Mapping[str, Any]) -> None:
    """The lines of a whole `import --json` document (the daemon's answer)."""
    for key in ("imported", *OTHER_LISTS):
        for entry in document[key]:
            _print_line(key, entry)
    if not any(document[key] for key in ("imported", *OTHER_LISTS)):
        print("nothing to import")


class TextOutput:
    """Prints each outcome's line as it happens; keeps only counts."""

    def __init__(self, progress: ProgressLine):
        # lazy: an import through the daemon never loads modeld.ingest
        from modeld.ingest.outcomes import report_entry

        self._entry = report_entry
        self.progress = progress
        self.imported = self.failed = self.total = 0

    def add(self, outcome: Outcome) -> None:
        key, entry = self._entry(outcome)
        self.progress.finish()  # the line goes below a progress bar, not into it
        _print_line(key, entry)
        self.total += 1
        self.imported += key == "imported"
        self.failed += key in ("failed", "waiting")

    def finish(self) -> None:
        if not self.total:
            print("nothing to import")


class JsonOutput:
    """Writes the `import --json` document as `print_json` would write it whole
    (indent 2, ASCII), the imported models each as it comes."""

    def __init__(self, stream: TextIO | None = None):
        from modeld.ingest.outcomes import report_entry  # lazy, as TextOutput's

        self._entry = report_entry
        self.stream = stream or sys.stdout
        self.imported = 0
        self.others: dict[str, list[dict[str, Any]]] = {
            key: [] for key in (*OTHER_LISTS, "waiting")
        }
        self.stream.write('{\n  "imported": [')

    @property
    def failed(self) -> int:
        return len(self.others["failed"]) + len(self.others["waiting"])

    def add(self, outcome: Outcome) -> None:
        key, entry = self._entry(outcome)
        if key != "imported":
            self.others[key].append(entry)
            return
        self.stream.write(",\n    " if self.imported else "\n    ")
        self.stream.write(_nested(entry, 2))
        self.imported += 1

    def finish(self) -> None:
        self.stream.write("\n  ]" if self.imported else "]")
        lists = {**self.others, "failed": self.others["failed"] + self.others["waiting"]}
        for key in OTHER_LISTS:
            self.stream.write(f',\n  "{key}": {_nested(lists[key], 1)}')
        self.stream.write("\n}\n")
        self.stream.flush()


def _nested(value: object, level: int) -> str:
    """`value` as json.dump(indent=2) writes it `level` deep in a document."""
    return json.dumps(value, indent=2, ensure_ascii=True).replace("\n", "\n" + "  " * level)
