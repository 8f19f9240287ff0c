"""`modeld` command line: parse, dispatch to a command group, map errors to exit codes.

Each command group lives in its own module with a `register(subparsers)`
function; modules keep their heavy imports inside the handlers so that a
`modeld search --json` call starts fast.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence

from modeld import __version__
from modeld.cli.context import EXIT_FAILURE, EXIT_USAGE, CliError, Context

# command-group modules under modeld.cli, in help order
GROUPS = ("core", "daemon", "links", "hub", "tray", "service")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse exits 2 on usage errors: keep it
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"modeld: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="modeld", description="Keep a local AI model collection in order.")
    parser.add_argument("--version", action="version", version=f"modeld {__version__}")
    parser.add_argument("--config", metavar="FILE", help="config file (default: $MODELD_CONFIG)")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    subparsers.required = True
    for group in GROUPS:
        importlib.import_module(f"modeld.cli.{group}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
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
