"""Daemon commands: run (foreground), status, pause, resume."""

from __future__ import annotations

import argparse
import faulthandler
import logging
import logging.handlers
import os
import signal
import sys
from pathlib import Path
from typing import Any

from modeld.cli.context import (
    EXIT_FAILURE,
    EXIT_NO_DAEMON,
    CliError,
    Context,
    add_command,
    print_json,
)
from modeld.logformat import ENCODING, ERRORS, EscapingFormatter


def register(subparsers: argparse._SubParsersAction) -> None:
    add_command(subparsers, "run", cmd_run, "run the daemon in the foreground", json=False)
    add_command(subparsers, "status", cmd_status, "ask the running daemon what it is doing")
    add_command(subparsers, "pause", cmd_pause_resume, "hold the import queues")
    add_command(subparsers, "resume", cmd_pause_resume, "release them")


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
    from modeld.config import ConfigError
    from modeld.control.server import SocketInUse
    from modeld.daemon.app import AlreadyRunning, Daemon
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


def _call(ctx: Context, cmd: str) -> Any:
    from modeld.control.client import DaemonError, DaemonNotRunning, call

    try:
        return call(ctx.config.socket_path, cmd)
    except DaemonNotRunning as exc:
        raise CliError(
            "modeld is not running (start it with `modeld run`)", EXIT_NO_DAEMON
        ) from exc
    except DaemonError as exc:
        raise CliError(str(exc), EXIT_FAILURE) from exc
    except OSError as exc:
        raise CliError(f"cannot reach the daemon: {exc}", EXIT_NO_DAEMON) from exc


def cmd_status(args: argparse.Namespace, ctx: Context) -> int:
    status = _call(ctx, "status")
    if args.json:
        print_json(status)
        return 0
    for line in status_lines(status):
        print(line)
    return 0


def status_lines(status: dict[str, Any]) -> list[str]:
    lines = [f"modeld {status['state']} (pid {status['pid']})"]
    library = status.get("library", {})
    if library:
        online = "online" if library.get("online") else "OFFLINE"
        lines.append(f"library: {library.get('root')} ({online})")
    for watch in status.get("watching", []):
        lines.append(
            f"watching: {watch.get('path')} ({watch.get('mode', '')}, {watch.get('state', '')})"
        )
    for queue in status.get("queues", []):
        lines.append(f"queue {queue['device']} ({queue['kind']}): {queue['pending']} pending")
        for job in queue["active"]:
            percent = 100 * job["done"] / job["total"] if job["total"] else 100
            lines.append(f"  {percent:5.1f}%  {job['path']}")
    lines.append(
        f"imported {status['imported']}, duplicates {status['duplicates']}, "
        f"quarantined {status['quarantined']}"
    )
    links = status.get("links", {})
    if links:
        lines.append(
            "links: "
            + ", ".join(f"{links.get(k, 0)} {k}" for k in ("ok", "broken", "missing", "orphaned"))
        )
    lines.append(hub_line(status.get("hub") or {}))
    lines.extend(held_lines(status.get("waiting") or [], status.get("errors") or []))
    return lines


SHOWN_PER_LIST = 5


def held_lines(waiting: list[Any], errors: list[Any]) -> list[str]:
    """The counts of files waiting and refused, then the oldest waiting and newest errors."""
    lines = [f"waiting {len(waiting)}, errors {len(errors)}"]
    for item in waiting[:SHOWN_PER_LIST]:
        lines.append(f"  waiting: {item['path']}: {item['reason']} (since {item['since']})")
    if len(waiting) > SHOWN_PER_LIST:
        lines.append(f"  ... and {len(waiting) - SHOWN_PER_LIST} more waiting (status --json)")
    for error in errors[-SHOWN_PER_LIST:]:
        lines.append(f"  error: {error_text(error)}")
    if len(errors) > SHOWN_PER_LIST:
        lines.append(f"  ... and {len(errors) - SHOWN_PER_LIST} earlier errors (status --json)")
    return lines


def error_text(error: Any) -> str:
    """`path: reason`; a daemon older than `errors` objects sent plain strings."""
    if isinstance(error, dict):
        return f"{error['path']}: {error['reason']}" if error.get("path") else error["reason"]
    return str(error)


def hub_line(hub: dict[str, Any]) -> str:
    state = hub.get("state", "disabled")
    if state == "offline" and hub.get("next_try") is not None:
        return f"hub: offline (next try in {int(hub['next_try'])} s)"
    return f"hub: {state}"


def cmd_pause_resume(args: argparse.Namespace, ctx: Context) -> int:
    result = _call(ctx, args.command)
    if args.json:
        print_json(result)
    else:
        print(f"modeld is {result['state']}")
    return 0
