"""`modeld` command line: parse, dispatch to a command group, map errors to exit codes.

Each command group lives in its own module with a `register(subparsers)`
function. A run imports only the group of the command it runs (COMMANDS), so
`modeld search --json` or `modeld status` never pays for the daemon, the
import pipeline or the Hub; `modeld --version` imports none, `modeld --help`
all of them.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from modeld import __version__
from modeld.cli.context import Context
from modeld.cli.errors import EXIT_FAILURE, EXIT_USAGE, CliError
from modeld.errors import ModeldError

# command-group modules under modeld.cli, in help order
GROUPS = ("ingest", "core", "daemon", "status", "links", "hub", "tray", "service")

# every top-level command, and the group module that registers it
COMMANDS = {
    "import": "ingest",
    **dict.fromkeys(
        ("search", "list", "show", "remove", "scan", "verify", "quarantine", "config"), "core"
    ),
    "run": "daemon",
    **dict.fromkeys(("status", "pause", "resume"), "status"),
    "links": "links",
    "hub": "hub",
    "tray": "tray",
    "service": "service",
}


class _Parser(argparse.ArgumentParser):
    complete = True  # every command group registered (a sub-command's parser: n/a)

    def error(self, message: str) -> NoReturn:  # argparse exits 2 on usage errors: keep it
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"modeld: {message}\n")

    def format_help(self) -> str:
        if not self.complete:  # `modeld --help` lists every command, in help order
            return build_parser().format_help()
        return super().format_help()


def _global_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help="config file (default: $MODELD_CONFIG)")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")


class _NoCommand(ModeldError):
    pass


class _Peek(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # the full parser reports it, with its usage
        raise _NoCommand(message)


def command_word(argv: Sequence[str]) -> str | None:
    """The command `argv` names, found the way the full parser will find it
    (so `--config FILE`, `--config=FILE` and abbreviations are skipped)."""
    parser = _Peek(add_help=False, exit_on_error=False)
    _global_options(parser)
    parser.add_argument("command", nargs="?")
    try:
        known, _ = parser.parse_known_args(argv)
    except (_NoCommand, argparse.ArgumentError):
        return None
    command: str | None = known.command
    return command


def groups_for(command: str | None) -> tuple[str, ...]:
    """The groups to register for `command`: its own; none without a command
    (`--version`, a usage error; `--help` registers them all as it prints);
    all for a word that is no command, so that its error lists every command."""
    if command is None:
        return ()
    return (COMMANDS[command],) if command in COMMANDS else GROUPS


def build_parser(groups: Sequence[str] = GROUPS) -> argparse.ArgumentParser:
    """The parser, with these command groups registered (by default all)."""
    parser = _Parser(prog="modeld", description="Keep a local AI model collection in order.")
    parser.complete = set(groups) == set(GROUPS)
    parser.add_argument("--version", action="version", version=f"modeld {__version__}")
    _global_options(parser)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    subparsers.required = True
    for group in groups:
        importlib.import_module(f"modeld.cli.{group}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(groups_for(command_word(argv))).parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    context = Context(config_path=args.config)
    try:
        return args.handler(args, context) or 0
    except CliError as exc:
        print(f"modeld: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("modeld: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `modeld list | head`: the reader left, nothing to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # a message, not a traceback; -v shows the traceback
        logging.getLogger("modeld").debug("unhandled error", exc_info=True)
        print(f"modeld: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    finally:
        context.close()
