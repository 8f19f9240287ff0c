"""`modeld run`: the daemon in the foreground, and where its log goes."""

from __future__ import annotations

import argparse
import faulthandler
import logging
import logging.handlers
import os
import signal
import sys
from pathlib import Path

from modeld.cli.context import Context, Subparsers, add_command
from modeld.cli.errors import CliError
from modeld.logformat import ENCODING, ERRORS, EscapingFormatter


def register(subparsers: Subparsers) -> None:
    add_command(subparsers, "run", cmd_run, "run the daemon in the foreground", json=False)


class JournaldFormatter(EscapingFormatter):
    """`<N>` priority prefixes that journald understands; it adds its own timestamps."""

    PRIORITIES = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3}

    def format(self, record: logging.LogRecord) -> str:
        priority = self.PRIORITIES.get(record.levelno, 2 if record.levelno > 40 else 6)
        # journald reads each line on its own: a traceback keeps its priority throughout
        return "\n".join(f"<{priority}>{line}" for line in super().format(record).splitlines())


def configure_daemon_logging(log_file: Path, verbose: bool) -> None:
    """A rotating file (`log_file`, default `<state_dir>/modeld.log`) that is always
    there to attach to a bug report, plus stderr for journald or a terminal.

    Under launchd stderr goes to a file nobody rotates, kept for crash output,
    so there the log goes to the rotating file only.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    if os.environ.get("MODELD_SERVICE") != "launchd":
        stderr = logging.StreamHandler(sys.stderr)
        if os.environ.get("JOURNAL_STREAM") or os.environ.get("INVOCATION_ID"):
            stderr.setFormatter(JournaldFormatter("%(name)s: %(message)s"))
        else:
            stderr.setFormatter(
                EscapingFormatter(
                    "%(asctime)s.%(msecs)03d %(levelname)s %(name)s: %(message)s", "%H:%M:%S"
                )
            )
        root.addHandler(stderr)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(
        log_file, maxBytes=10 * 1024 * 1024, backupCount=3, encoding=ENCODING, errors=ERRORS
    )
    handler.setFormatter(EscapingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for noisy in ("apscheduler", "watchdog", "httpx", "httpx2", "urllib3", "PIL"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def cmd_run(args: argparse.Namespace, ctx: Context) -> int:
    # lazy: `modeld --help` imports this module, and should not load the whole daemon
    from modeld.config import ConfigError
    from modeld.control.errors import SocketInUse
    from modeld.daemon.app import Daemon
    from modeld.daemon.errors import AlreadyRunning
    from modeld.links.kinds import check_kinds

    configure_daemon_logging(ctx.config.daemon.log_file, args.verbose)
    # `kill -USR1 <pid>` writes every thread's stack to stderr (the journal): a hung
    # daemon can say where it hangs without a debugger
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    try:
        check_kinds(ctx.config)
        return Daemon(ctx.config).run()
    except (AlreadyRunning, SocketInUse, ConfigError) as exc:
        raise CliError(str(exc)) from exc
