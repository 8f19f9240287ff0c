"""Asking the running daemon: status, pause, resume (the control client only)."""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from typing import Any

from modeld.cli.context import (
    EXIT_FAILURE,
    EXIT_NO_DAEMON,
    Context,
    Subparsers,
    add_command,
    print_json,
)
from modeld.cli.errors import CliError
from modeld.control.client import call
from modeld.control.errors import DaemonError, DaemonNotRunning


def register(subparsers: Subparsers) -> None:
    add_command(subparsers, "status", cmd_status, "ask the running daemon what it is doing")
    add_command(subparsers, "pause", cmd_pause_resume, "hold the import queues")
    add_command(subparsers, "resume", cmd_pause_resume, "release them")


def _call(ctx: Context, cmd: str) -> Any:  # the daemon's JSON reply
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


def status_lines(status: Mapping[str, Any]) -> list[str]:
    """`status`'s lines, from the daemon's JSON status document."""
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


def held_lines(waiting: Sequence[Any], errors: Sequence[Any]) -> list[str]:
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


def error_text(error: object) -> str:
    """`path: reason`; a daemon older than `errors` objects sent plain strings."""
    if isinstance(error, dict):
        return f"{error['path']}: {error['reason']}" if error.get("path") else error["reason"]
    return str(error)


def hub_line(hub: Mapping[str, Any]) -> str:
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
