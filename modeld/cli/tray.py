"""`modeld tray`: the tray icon, a separate process that talks to the daemon."""

from __future__ import annotations

import argparse
import sys

from modeld.cli.context import Context, Subparsers, add_command
from modeld.cli.errors import CliError


def register(subparsers: Subparsers) -> None:
    p = add_command(
        subparsers,
        "tray",
        cmd_tray,
        "the tray icon process (a client of the running daemon)",
        json=False,
    )
    p.add_argument(
        "--wait",
        type=float,
        default=15.0,
        metavar="SECONDS",
        help="how long to wait for a system tray to appear at login (default 15)",
    )


def cmd_tray(args: argparse.Namespace, ctx: Context) -> int:
    # pystray is imported inside: it needs a display, and other commands must not pay for it
    from modeld.tray.app import TrayAlreadyRunning, TrayUnavailable, run

    try:
        return run(ctx.config, tray_wait=max(0.0, args.wait))
    except TrayUnavailable as exc:
        raise CliError(str(exc)) from exc
    except TrayAlreadyRunning as exc:
        # not a failure: the icon is there (a login autostart and a service may both try)
        print(f"modeld: {exc}", file=sys.stderr)
        return 0
