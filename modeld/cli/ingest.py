"""The import command: through the running daemon (its progress events drawn
here), or in-process when no daemon runs."""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from modeld.after_import import AfterImport, after_import_steps
from modeld.cli.context import EXIT_FAILURE, Context, Subparsers, add_command, print_json
from modeld.cli.errors import CliError
from modeld.cli.import_output import JsonOutput, TextOutput, print_document
from modeld.cli.progress import ProgressLine
from modeld.control.client import call, subscribe
from modeld.control.errors import DaemonError, DaemonNotRunning, ProtocolError
from modeld.control.events import FINISHED, Event, ImportStarted, Progress, parse_event


def register(subparsers: Subparsers) -> None:
    p = add_command(
        subparsers, "import", cmd_import, "import files or folders into the library now"
    )
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--copy", action="store_true", help="keep the source (default: move)")


def cmd_import(args: argparse.Namespace, ctx: Context) -> int:
    paths = [Path(p).expanduser().absolute() for p in args.paths]
    for path in paths:
        if not path.exists() and not path.is_symlink():
            raise CliError(f"no such file or folder: {path}")
    report = _import_via_daemon(ctx, paths, copy=args.copy, show_progress=not args.json)
    if report is None:
        return _import_in_process(ctx, paths, copy=args.copy, as_json=args.json)
    if args.json:
        print_json(report)
    else:
        print_document(report)
    return EXIT_FAILURE if report["failed"] and not report["imported"] else 0


def _import_via_daemon(
    ctx: Context, paths: list[Path], *, copy: bool, show_progress: bool
) -> dict[str, Any] | None:
    """The daemon's report (its JSON `import` document), or None when no daemon
    runs. Its progress events for these paths draw the same progress line as an
    in-process import."""
    progress = ProgressLine(enabled=show_progress and sys.stderr.isatty())
    try:
        with subscribe(ctx.config.socket_path, timeout=10) as subscription:
            if subscription.status.get("state") == "paused":
                print(
                    "modeld: the daemon is paused; this import starts after `modeld resume`",
                    file=sys.stderr,
                    flush=True,
                )
            follower = _ProgressFollower(subscription.events, paths, progress)
            follower.start()
            try:
                report: dict[str, Any] = call(
                    ctx.config.socket_path,
                    "import",
                    timeout=None,
                    paths=[str(p) for p in paths],
                    copy=copy,
                )
            finally:
                follower.stop()
    except DaemonNotRunning:
        return None
    except DaemonError as exc:
        raise CliError(f"the daemon refused the import: {exc}") from exc
    except (OSError, ProtocolError) as exc:
        raise CliError(f"lost the daemon during the import: {exc}") from exc
    return report


class _ProgressFollower(threading.Thread):
    """Draws the daemon's progress events for our paths until stopped."""

    # the reply comes on another connection and may overtake a file's last events
    CATCH_UP_SECONDS = 2.0

    def __init__(self, events: Iterator[dict[str, Any]], paths: list[Path], line: ProgressLine):
        super().__init__(name="import-progress", daemon=True)
        self.events = events
        self.prefixes = [str(p) for p in paths]
        self.line = line
        self.changed = threading.Condition()
        self.unfinished: set[str] = set()  # started, and their last event not seen yet
        self.stopped = False

    def run(self) -> None:
        try:
            for message in self.events:
                event = parse_event(message)
                path = getattr(event, "path", None)
                if event is not None and path is not None and self._ours(path):
                    self._draw(event, path)
        except (OSError, ValueError, ProtocolError):
            pass  # the stream closes when the import's reply is in

    def _draw(self, event: Event, path: str) -> None:
        with self.changed:
            if self.stopped:
                return
            if isinstance(event, ImportStarted):
                self.unfinished.add(path)
                self.line.start(Path(path).name, event.total)
            elif isinstance(event, Progress):
                self.line.update(event.done, event.total)
                if event.done == event.total:
                    self.unfinished.discard(path)
            elif isinstance(event, FINISHED):
                self.unfinished.discard(path)
            self.changed.notify_all()

    def _ours(self, path: str) -> bool:
        return any(path == p or path.startswith(p.rstrip("/") + "/") for p in self.prefixes)

    def stop(self) -> None:
        with self.changed:
            self.changed.wait_for(lambda: not self.unfinished, timeout=self.CATCH_UP_SECONDS)
            self.stopped = True
            self.line.finish()


def _import_in_process(ctx: Context, paths: list[Path], *, copy: bool, as_json: bool) -> int:
    """The import here, its output printed as it goes (import_output.py)."""
    # lazy: CLI start-up (an import through the daemon never loads the pipeline)
    from modeld.ingest.pipeline import Importer, recover

    ctx.open_index()
    recover(ctx.config)
    progress = ProgressLine(enabled=not as_json and sys.stderr.isatty())
    output = JsonOutput() if as_json else TextOutput(progress)

    def on_event(event: Event) -> None:
        if isinstance(event, ImportStarted):
            progress.start(Path(event.path).name, event.total)

    importer = Importer(ctx.config, on_event=on_event, after_import=_after_import_steps(ctx))
    importer.import_into(output, paths, copy=copy, progress=progress.update)
    progress.finish()
    output.finish()
    return EXIT_FAILURE if output.failed and not output.imported else 0


def _after_import_steps(ctx: Context) -> list[AfterImport]:
    """Link a newly imported model into the configured apps (when any); no Hub
    lookups here: they belong to the daemon, which retries them."""
    if not ctx.config.apps:
        return []
    from modeld.links import LinkManager

    return after_import_steps(LinkManager(ctx.config))
