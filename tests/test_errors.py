"""Named errors: every exception modeld defines is a ModeldError, kept in its package's errors.py.

The modules are imported for real (not parsed), so an exception that
inherits from another module's exception is judged by what it really is.
"""

from __future__ import annotations

import importlib
from functools import cache
from pathlib import Path

import modeld
from modeld.errors import ModeldError

# Exceptions that stay beside the code that raises them, and why.
STAYS_WHERE_RAISED = {
    # a parser's control-flow value ("these bytes are not this format"),
    # caught by format detection and the importer, never seen by a user as such
    "modeld.vocab.reads.Malformed",
    # the stager's control-flow value: carries the unit's outcome (a Waiting, a
    # Failed) from staging to the importer, which reports the outcome itself
    "modeld.ingest.stage.StageError",
}


@cache
def defined_exceptions() -> dict[str, type[BaseException]]:
    """'module.Name' -> class, for every exception class a modeld module defines."""
    # from the files, not pkgutil: folders without __init__.py (namespace
    # packages such as modeld.ingest) are invisible to pkgutil's walk
    root = Path(modeld.__file__).parent
    names = sorted(
        ".".join(("modeld", *path.relative_to(root).with_suffix("").parts)).removesuffix(
            ".__init__"
        )
        for path in root.rglob("*.py")
        if path.name != "__main__.py"  # importing it runs the CLI
    )
    found: dict[str, type[BaseException]] = {}
    for name in names:
        module = importlib.import_module(name)
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, BaseException)
                and value.__module__ == name
            ):
                found[f"{name}.{value.__qualname__}"] = value
    return found


def test_the_walk_sees_the_packages_errors():
    # a walk that imported nothing would pass the tests below vacuously
    found = defined_exceptions()
    assert {
        "modeld.errors.ModeldError",
        "modeld.errors.LockHeld",
        "modeld.config.errors.ConfigError",
        "modeld.links.errors.LinkUnsupported",
        "modeld.hub.errors.HubOffline",
        "modeld.cli.errors.CliError",
    } <= set(found)


def test_every_exception_modeld_defines_is_a_modeld_error():
    offenders = sorted(
        name for name, cls in defined_exceptions().items() if not issubclass(cls, ModeldError)
    )
    assert offenders == []


def test_each_package_keeps_its_public_errors_in_its_errors_module():
    misplaced = sorted(
        name
        for name, cls in defined_exceptions().items()
        if cls.__module__.rpartition(".")[2] != "errors"
        and not cls.__name__.startswith("_")  # a module's private control-flow value
        and name not in STAYS_WHERE_RAISED
    )
    assert misplaced == []


def test_errors_keep_their_builtin_bases_and_messages(tmp_path):
    from modeld.errors import LockHeld
    from modeld.links.errors import FolderError, LinksError, LinkUnsupported

    # callers that handle a failed link as an OSError, or a bad folder as a ValueError
    assert issubclass(LinkUnsupported, OSError) and issubclass(LinkUnsupported, LinksError)
    assert issubclass(FolderError, ValueError) and issubclass(FolderError, LinksError)
    assert str(LinkUnsupported("cannot link into /x")) == "cannot link into /x"
    held = LockHeld(tmp_path / "modeld.pid", "42")
    assert str(held) == f"{tmp_path / 'modeld.pid'} is held by pid 42"
    assert isinstance(held, ModeldError)
