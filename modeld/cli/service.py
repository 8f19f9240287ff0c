"""`modeld service install|uninstall|status`: the systemd user unit or launchd agent."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modeld.cli.context import (
    EXIT_FAILURE,
    EXIT_NO_DAEMON,
    EXIT_OK,
    Context,
    Subparsers,
    add_command,
    add_group,
    print_json,
)
from modeld.cli.errors import CliError

# annotation-only: the service modules load when a service command runs, not at start-up
if TYPE_CHECKING:
    from collections.abc import Mapping

    from modeld.service.base import ManagerStatus, ServiceManager
    from modeld.service.plan import ApplyReport, Host, InstallRecord, Plan, Runner

    class StatusDocument(ManagerStatus):
        """`service status --json`: the manager's view, then what modeld knows."""

        installed: bool
        files: list[str]
        daemon: Mapping[str, Any] | None  # the daemon's JSON status, or {"error": ...}


def register(subparsers: Subparsers) -> None:
    actions = add_group(
        subparsers, "service", "start modeld at login (systemd user unit / launchd agent)"
    )
    p = add_command(actions, "install", cmd_install, "write, enable and start the service")
    p.add_argument("--dry-run", action="store_true", help="print what would be written and run")
    p.add_argument("--no-tray", action="store_true", help="do not install the tray icon service")
    p = add_command(
        actions, "uninstall", cmd_uninstall, "stop the service and remove what install wrote"
    )
    p.add_argument("--dry-run", action="store_true", help="print what would be removed and run")
    p = add_command(
        actions, "status", cmd_status, "the service manager's view and the daemon's own status"
    )
    # the contract gives every service action --dry-run; status changes nothing, so it is a no-op
    p.add_argument("--dry-run", action="store_true", help="accepted; status never changes anything")


# Seams for tests: the host and the command runner. Tests replace them where
# the real thing cannot exist on the test machine (launchctl on Linux).
def current_host() -> Host:
    from modeld.service.plan import Host

    return Host.current()


def command_runner() -> Runner:
    from modeld.service.plan import run_command

    return run_command


def _manager(host: Host) -> ServiceManager:
    from modeld.service.errors import UnsupportedPlatform
    from modeld.service.managers import manager_for

    try:
        return manager_for(host, command_runner())
    except UnsupportedPlatform as exc:
        raise CliError(str(exc)) from exc


def _record(host: Host) -> InstallRecord | None:
    from modeld.service.plan import read_record

    try:
        return read_record(host.record_path)
    except ValueError as exc:
        raise CliError(str(exc)) from exc


# -- install ------------------------------------------------------------------


def cmd_install(args: argparse.Namespace, ctx: Context) -> int:
    from modeld.service.managers import (
        current_launcher,
        launcher_problem,
        transient_launcher_note,
    )
    from modeld.service.plan import ServiceSpec, apply

    if not sys.executable:
        raise CliError("cannot tell which Python interpreter runs modeld")
    config = ctx.config  # an invalid config is refused here, not in a crash-looping service
    config_file = Path(os.path.abspath(config.source)) if config.source else None
    spec = ServiceSpec(
        launcher=current_launcher(),
        config_file=config_file,
        tray=config.tray.enabled and not args.no_tray,
    )
    host = current_host()
    manager = _manager(host)
    try:
        plan = manager.plan_install(spec, _record(host))
    except ValueError as exc:  # a path that cannot be written into a unit file
        raise CliError(str(exc)) from exc
    if note := transient_launcher_note(spec, host.home):
        plan.notes.append(note)
    unavailable = manager.unavailable()
    problem = launcher_problem(spec, host.home)

    if args.dry_run:
        notes = [*plan.notes, *([problem] if problem else [])]
        if unavailable:
            notes.append(manager.advice(spec, unavailable))
        _print_plan(plan, notes, None, args.json)
        return EXIT_OK
    if problem:
        raise CliError(problem)
    if unavailable:
        raise CliError(manager.advice(spec, unavailable))

    report = apply(plan, manager.runner)
    _print_plan(plan, plan.notes, report, args.json)
    if failure := report.failure:
        raise CliError(f"install failed: {failure.action.describe()}: {failure.detail}")
    if not args.json:
        print(manager.installed_message())
    return EXIT_OK


# -- uninstall ----------------------------------------------------------------


def cmd_uninstall(args: argparse.Namespace, ctx: Context) -> int:
    from modeld.service.plan import apply

    host = current_host()
    manager = _manager(host)
    record = _record(host)
    if record is None:
        leftovers = manager.installed_without_record()
        if leftovers:
            raise CliError(
                f"no install record at {host.record_path}, so modeld did not write "
                + ", ".join(map(str, leftovers))
                + "; leaving it alone"
            )
        if args.json:
            print_json({"manager": manager.name, "installed": False, "actions": [], "notes": []})
        else:
            print("the modeld service is not installed")
        return EXIT_OK

    plan = manager.plan_uninstall(record)
    if args.dry_run:
        _print_plan(plan, plan.notes, None, args.json)
        return EXIT_OK
    report = apply(plan, manager.runner)
    _print_plan(plan, plan.notes, report, args.json)
    if failure := report.failure:
        raise CliError(f"uninstall failed: {failure.action.describe()}: {failure.detail}")
    return EXIT_OK


# -- status -------------------------------------------------------------------


def cmd_status(args: argparse.Namespace, ctx: Context) -> int:
    from modeld.control.client import call
    from modeld.control.errors import DaemonError, DaemonNotRunning

    host = current_host()
    manager = _manager(host)
    record = _record(host)
    view = manager.status()
    document: StatusDocument = {
        **view,
        "installed": record is not None,
        "files": sorted(record.files) if record else [],
        "daemon": None,
    }
    code = EXIT_OK
    try:
        document["daemon"] = call(ctx.config.socket_path, "status", timeout=5.0)
    except DaemonNotRunning:
        code = EXIT_NO_DAEMON
    except (DaemonError, OSError) as exc:
        document["daemon"] = {"error": str(exc)}
        code = EXIT_FAILURE

    if args.json:
        print_json(document)
    else:
        print("\n".join(_status_lines(document, manager)))
    return code


def _status_lines(doc: StatusDocument, manager: ServiceManager) -> list[str]:
    from modeld.service.base import first_line

    lines = []
    if not doc["available"]:
        lines.append(f"{manager.name}: not reachable ({first_line(doc['reason'] or '')})")
    lines.append(
        "installed: "
        + (", ".join(doc["files"]) if doc["installed"] else "no (modeld service install)")
    )
    for name, props in doc["services"].items():
        lines.append(f"{name}: {manager.summarize(props) if props else 'unknown'}")
    daemon = doc["daemon"]
    if daemon is None:
        lines.append("daemon: not running")
    elif "error" in daemon:
        lines.append(f"daemon: error: {daemon['error']}")
    else:
        watching = daemon.get("watching") or []
        lines.append(
            f"daemon: {daemon.get('state', '?')}, pid {daemon.get('pid', '?')}, "
            f"watching {len(watching)} folder{'s' if len(watching) != 1 else ''}, "
            f"{daemon.get('imported', 0)} imported, {daemon.get('quarantined', 0)} quarantined"
        )
    if manager.logs_hint:
        lines.append(f"logs: {manager.logs_hint}")
    return lines


# -- output -------------------------------------------------------------------


def _print_plan(plan: Plan, notes: list[str], report: ApplyReport | None, as_json: bool) -> None:
    """The plan as --dry-run shows it (report None), or with each action's outcome."""
    outcomes = {id(o.action): o for o in report.outcomes} if report else {}
    if as_json:
        actions = []
        for action in plan.actions:
            # a copy that can take the outcome's fields too (bool, None)
            entry: dict[str, object] = dict(action.document())
            if report is not None:
                outcome = outcomes.get(id(action))
                entry["done"] = outcome is not None
                entry["ok"] = outcome.ok if outcome else None
                entry["output"] = outcome.detail if outcome else ""
            actions.append(entry)
        print_json(
            {
                "manager": plan.manager,
                "dry_run": report is None,
                "ok": report.ok if report else None,
                "actions": actions,
                "notes": notes,
            }
        )
        return
    for action in plan.actions:
        if report is None:
            print(f"would {action.describe()}")
            content = action.document().get("content")
            if isinstance(content, str):  # a file to write: shown indented
                print("".join(f"    {line}\n" for line in content.splitlines()), end="")
            continue
        outcome = outcomes.get(id(action))
        if outcome is None:
            print(f"skipped: {action.describe()}")
        else:
            state = "ok" if outcome.ok else "FAILED"
            detail = f": {outcome.detail}" if outcome.detail and not outcome.ok else ""
            print(f"{state}: {action.describe()}{detail}")
    for note in notes:
        print(f"note: {note}")
