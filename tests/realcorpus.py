"""The real third-party corpus (../shared/corpus): where it is, its manifest, and the verdict.

The corpus holds files this project did not write (llama.cpp's GGUFs,
picklescan's exploit pickles, torch checkpoints from pip packages, ...); its
MANIFEST.tsv says what modeld must do with each (`import`, `quarantine`,
`refuse`). Tests copy the files into a temp folder and never unpickle them.

`judge` is shared by the in-process and the daemon test: each reduces what it
saw for a file to `Outcome`s, and `judge` says what, if anything, is wrong.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

MANIFEST = "MANIFEST.tsv"
EXPECTATIONS = ("import", "quarantine", "refuse")

# the manifest path's top folder says which format an `import` file must get
FORMAT_OF_FOLDER = {
    "gguf": "gguf",
    "onnx": "onnx",
    "safetensors": "safetensors",
    "torch": "pickle",
    "pickles-benign": "pickle",
}

# "malicious pickle protocol 4 calling operator.attrgetter, bdb.Bdb (...)" -> the names
_CALLING = re.compile(r"\bcalling ((?:[\w.<>]+)(?:, [\w.<>]+)*)")
# a reason that names some import (a dotted name after "import(s)")
_NAMES_AN_IMPORT = re.compile(r"\bimports? [\w<>_]+\.[\w.<>_]+")
# a reason that says the file cannot be verified, or that it carries code
_UNVERIFIABLE = re.compile(
    r"cannot be (fully )?(scanned|verified|read)|could not be (fully )?(scanned|verified|read)"
    r"|not trusted|unscannable|unverifiable|encrypt|torchscript|carries code|holds code",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class CorpusFile:
    """One row of MANIFEST.tsv."""

    path: str  # relative to files/, '/'-separated
    size: int
    sha256: str
    expect: str  # import | quarantine | refuse
    source: str
    path_in_source: str
    what_it_is: str

    @property
    def expected_format(self) -> str | None:
        """The `format` an `import` file must be imported with (None for the others)."""
        if self.expect != "import":
            return None
        return FORMAT_OF_FOLDER[self.path.split("/", 1)[0]]

    @property
    def callables(self) -> tuple[str, ...]:
        """What the manifest says a malicious pickle calls ("calling a.b, c.d")."""
        match = _CALLING.search(self.what_it_is)
        return tuple(match[1].split(", ")) if match else ()


@dataclass(frozen=True)
class Outcome:
    """What modeld did with a file, as one test observed it."""

    kind: str  # imported | quarantined | refused | waiting | duplicate
    detail: str  # the format for `imported`, else the reason (or the duplicate's id)


def corpus_root() -> Path:
    """$MODELD_CORPUS, else ../shared/corpus beside the repository."""
    if override := os.environ.get("MODELD_CORPUS"):
        return Path(override)
    here = Path(__file__).resolve()
    repo = next(p for p in here.parents if (p / "pyproject.toml").is_file())
    return repo.parent / "shared" / "corpus"


def require_corpus() -> Path:
    """The corpus root; skips when it is missing, except under CI, which must have it."""
    root = corpus_root()
    if not (root / MANIFEST).is_file():
        message = f"the real corpus is missing ({root / MANIFEST}; set MODELD_CORPUS)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return root


def parse_manifest(text: str) -> list[CorpusFile]:
    rows = list(csv.DictReader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE))
    entries = [
        CorpusFile(
            path=row["path"],
            size=int(row["size"]),
            sha256=row["sha256"].lower(),
            expect=row["expect"],
            source=row["source"],
            path_in_source=row["path_in_source"],
            what_it_is=row["what_it_is"],
        )
        for row in rows
    ]
    unknown = {e.path: e.expect for e in entries if e.expect not in EXPECTATIONS}
    assert unknown == {}, f"manifest rows with an unknown expect: {unknown}"
    return entries


def read_manifest(root: Path) -> list[CorpusFile]:
    return parse_manifest((root / MANIFEST).read_text(encoding="utf-8"))


def verified_manifest(root: Path) -> list[CorpusFile]:
    """The manifest, after checking every file's size and sha256 (the corpus must be real)."""
    entries = read_manifest(root)
    assert_files_match(root, entries)
    assert entries, "the manifest lists no files"
    return entries


def verified_files(prefix: str) -> list[tuple[Path, CorpusFile]]:
    """Each file whose manifest path starts with `prefix`, at its place in the corpus.

    Sizes and sha256 are checked first; a missing corpus skips (fails under CI).
    """
    root = require_corpus()
    entries = [entry for entry in read_manifest(root) if entry.path.startswith(prefix)]
    assert entries, f"the corpus manifest lists no files under {prefix}"
    assert_files_match(root, entries)
    return [(root / "files" / entry.path, entry) for entry in entries]


def assert_files_match(root: Path, entries: list[CorpusFile]) -> None:
    wrong = {}
    for entry in entries:
        file = root / "files" / entry.path
        if not file.is_file():
            wrong[entry.path] = "missing"
            continue
        digest = hashlib.sha256(file.read_bytes()).hexdigest()
        if (file.stat().st_size, digest) != (entry.size, entry.sha256):
            wrong[entry.path] = f"{file.stat().st_size} bytes, sha256 {digest}"
    assert wrong == {}, f"the corpus does not match its manifest: {wrong}"


def copy_into(root: Path, entries: list[CorpusFile], folder: Path) -> dict[str, Path]:
    """Copy each file to folder/<manifest path>; returns manifest path -> the copy."""
    copies = {}
    for entry in entries:
        target = folder / entry.path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(root / "files" / entry.path, target)
        copies[entry.path] = target
    return copies


def judge(entry: CorpusFile, outcomes: list[Outcome]) -> str | None:
    """None when modeld did exactly what the manifest expects; else what went wrong."""
    seen = "; ".join(f"{o.kind}: {o.detail}" for o in outcomes) or "no outcome at all"
    if len(outcomes) != 1:
        return f"expected one outcome ({entry.expect}), got {seen}"
    outcome = outcomes[0]
    want = {"import": "imported", "quarantine": "quarantined", "refuse": "refused"}[entry.expect]
    if outcome.kind != want:
        return f"expected {want}, got {seen}"
    if entry.expect == "import" and outcome.detail != entry.expected_format:
        return f"imported as {outcome.detail}, expected format {entry.expected_format}"
    if entry.expect == "quarantine":
        return quarantine_reason_problem(entry, outcome.detail)
    if entry.expect == "refuse":
        return refusal_reason_problem(outcome.detail)
    return None


def quarantine_reason_problem(entry: CorpusFile, reason: str) -> str | None:
    """A quarantine reason names what the file imports, or why it cannot be verified."""
    named = _builtins_as_one(reason)
    if any(_builtins_as_one(name) in named for name in entry.callables):
        return None
    if _NAMES_AN_IMPORT.search(reason):
        if entry.callables:  # it names imports, but not the ones the file really calls
            return f"quarantined, but the reason names none of {entry.callables}: {reason}"
        return None
    if _UNVERIFIABLE.search(reason):
        return None
    return f"quarantined without saying what it imports or why it is unverifiable: {reason!r}"


def _builtins_as_one(text: str) -> str:
    # Python 2 pickles say __builtin__ where Python 3 ones say builtins: the same module
    return text.replace("__builtin__.", "builtins.")


def refusal_reason_problem(reason: str) -> str | None:
    """A refusal's reason is one readable line, not empty and not a traceback."""
    text = reason.strip()
    if len(text) < 10 or "\n" in text or "Traceback" in text:
        return f"refused without a clear reason: {reason!r}"
    return None


def listing(wrong: dict[str, str]) -> str:
    """One line per wrong file: pytest would cut a long dict's diff short."""
    lines = [f"  {path}: {problem}" for path, problem in sorted(wrong.items())]
    return f"{len(wrong)} files did not do what the manifest says:\n" + "\n".join(lines)


def summary(kind: str, entries: list[CorpusFile], wrong: dict[str, str]) -> str:
    by_expect = {
        expect: sum(1 for e in entries if e.expect == expect and e.path not in wrong)
        for expect in EXPECTATIONS
    }
    totals = {expect: sum(1 for e in entries if e.expect == expect) for expect in EXPECTATIONS}
    parts = ", ".join(f"{by_expect[x]}/{totals[x]} {x}" for x in EXPECTATIONS)
    return (
        f"\nreal corpus ({kind}): {len(entries) - len(wrong)}/{len(entries)} files behaved "
        f"as the manifest says ({parts})"
    )
