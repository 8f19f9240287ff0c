"""The real third-party corpus through the real `Importer`, one file at a time.

Each file of ../shared/corpus (see tests/realcorpus.py) is copied into a temp
drop folder and imported on its own in copy mode, so every outcome in the
report belongs to that one file. Every file must do what MANIFEST.tsv says;
all the files that do not are reported together.
"""

from __future__ import annotations

import pytest

from modeld.ingest.pipeline import Importer, ImportReport
from modeld.ingest.quarantine import list_quarantine
from tests import realcorpus
from tests.realcorpus import CorpusFile, Outcome


def outcomes_of(report: ImportReport) -> list[Outcome]:
    return (
        [Outcome("imported", model["format"]) for model in report.imported]
        + [Outcome("quarantined", item["reason"]) for item in report.quarantined]
        + [Outcome("refused", item["reason"]) for item in report.failed]
        + [Outcome("waiting", item["reason"]) for item in report.waiting]
        + [Outcome("duplicate", f"of {item['id']}") for item in report.duplicates]
    )


@pytest.mark.timeout(120)
def test_every_real_corpus_file_is_imported_quarantined_or_refused_as_listed(
    config, index, drop, capsys
):
    root = realcorpus.require_corpus()
    entries = realcorpus.verified_manifest(root)
    copies = realcorpus.copy_into(root, entries, drop)
    importer = Importer(config)
    wrong: dict[str, str] = {}
    for entry in entries:
        report = importer.import_paths([copies[entry.path]], copy=True, boundary=drop)
        problem = realcorpus.judge(entry, outcomes_of(report))
        if problem is None and entry.expect == "quarantine":
            problem = _record_problem(config, str(copies[entry.path]))
        if problem is not None:
            wrong[entry.path] = problem
    with capsys.disabled():
        print(realcorpus.summary("in-process Importer", entries, wrong))
    assert wrong == {}, realcorpus.listing(wrong)


def _record_problem(config, path: str) -> str | None:
    """A quarantined file must sit in the quarantine folder with its record."""
    records = [r for r in list_quarantine(config.quarantine_dir) if r["path"] == path]
    if len(records) != 1:
        return f"reported quarantined, but {len(records)} quarantine records name it"
    return None


# -- the verdict itself: it must be able to fail --------------------------------

MALICIOUS = CorpusFile(
    "pickles-malicious/x/evil.pkl", 1, "0" * 64, "quarantine", "", "", "pickle calling os.system"
)
BENIGN = CorpusFile("torch/x/w.pth", 1, "0" * 64, "import", "", "", "a state_dict")
JUNK = CorpusFile("other/x/a.bin", 1, "0" * 64, "refuse", "", "", "not a model")


@pytest.mark.parametrize(
    ("entry", "outcomes"),
    [
        (BENIGN, [Outcome("imported", "safetensors")]),  # the wrong format
        (BENIGN, [Outcome("refused", "a text file, not a model")]),
        (BENIGN, [Outcome("imported", "pickle"), Outcome("waiting", "later")]),
        (BENIGN, []),
        (MALICIOUS, [Outcome("refused", "unknown format")]),
        (MALICIOUS, [Outcome("imported", "pickle")]),
        (MALICIOUS, [Outcome("quarantined", "pickle imports builtins.eval: runs code")]),
        (MALICIOUS, [Outcome("quarantined", "dangerous")]),
        (JUNK, [Outcome("quarantined", "pickle imports os.system")]),
        (JUNK, [Outcome("waiting", "truncated")]),
        (JUNK, [Outcome("refused", "")]),
        (JUNK, [Outcome("refused", "Traceback (most recent call last):\n  boom")]),
    ],
)
def test_the_verdict_rejects_what_the_manifest_does_not_say(entry, outcomes):
    assert realcorpus.judge(entry, outcomes) is not None


@pytest.mark.parametrize(
    ("entry", "outcomes"),
    [
        (BENIGN, [Outcome("imported", "pickle")]),
        (MALICIOUS, [Outcome("quarantined", "pickle imports os.system: this can run code")]),
        (MALICIOUS, [Outcome("quarantined", "pickle could not be fully scanned (bad opcode)")]),
        (JUNK, [Outcome("refused", "a legacy GGML file (before GGUF); convert it to GGUF")]),
    ],
)
def test_the_verdict_accepts_what_the_manifest_says(entry, outcomes):
    assert realcorpus.judge(entry, outcomes) is None


def test_the_manifest_names_what_a_malicious_pickle_calls_and_the_expected_format():
    row = (
        "pickles-malicious/p/m.pkl\t5\tAB\tquarantine\tsrc\tp/m.pkl\t"
        "malicious pickle protocol 2 calling __builtin__.getattr, bdb.Bdb (nested)\n"
        "pickles-benign/p/b.pkl\t7\tcd\timport\tsrc\tp/b.pkl\tlist ['a','b']\n"
    )
    header = "path\tsize\tsha256\texpect\tsource\tpath_in_source\twhat_it_is\n"
    evil, benign = realcorpus.parse_manifest(header + row)
    assert evil.callables == ("__builtin__.getattr", "bdb.Bdb")
    assert (evil.size, evil.sha256, evil.expected_format) == (5, "ab", None)
    assert benign.expected_format == "pickle" and benign.callables == ()
    # a Python 2 name and its Python 3 spelling are the same module
    assert realcorpus.judge(evil, [Outcome("quarantined", "imports builtins.getattr")]) is None
