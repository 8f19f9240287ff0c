"""`modeld links sync|check|repair [--json]`, run in-process (the daemon runs the same code)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from modeld.cli.context import EXIT_FAILURE, Context, Subparsers, add_command, add_group, print_json
from modeld.cli.errors import CliError

if TYPE_CHECKING:
    from modeld.links.health import CheckDocument


def register(subparsers: Subparsers) -> None:
    actions = add_group(subparsers, "links", "links into apps: sync, check, repair")
    for name, text in (
        ("sync", "create missing links for every model in every app (full reconcile)"),
        ("check", "report link health: ok, broken, missing, orphaned"),
        ("repair", "fix what check finds, follow a moved library or app"),
    ):
        add_command(actions, name, cmd_links, text, description=text)


def cmd_links(args: argparse.Namespace, ctx: Context) -> int:
    from modeld.config import ConfigError
    from modeld.links import LinkManager
    from modeld.links.kinds import check_kinds

    try:
        check_kinds(ctx.config)
    except ConfigError as exc:
        raise CliError(str(exc)) from exc
    ctx.open_index()
    manager = LinkManager(ctx.config)
    # check's document has its own type; sync's and repair's are the same report
    result: CheckDocument | dict[str, Any]
    if args.links_action == "check":
        result = manager.check()
        if not args.json:
            _print_check(result)
    else:
        result = {"sync": manager.sync_all, "repair": manager.repair}[args.links_action]()
        if not args.json:
            _print_report(args.links_action, result)
    if args.json:
        print_json(result)
    if result.get("library") == "offline":
        print(
            f"modeld: the library at {ctx.config.library_root} is not mounted; nothing was changed",
            file=sys.stderr,
        )
        return EXIT_FAILURE
    return 0


def _print_check(result: CheckDocument) -> None:
    print(
        f"{result['checked']} links checked: {result['ok']} ok, {len(result['broken'])} broken, "
        f"{len(result['missing'])} missing, {len(result['orphaned'])} orphaned"
        + (f", {result['offline']} offline" if result.get("offline") else "")
    )
    for status in ("broken", "missing", "orphaned"):
        for link in result[status]:
            reason = f"  ({link['reason']})" if link.get("reason") else ""
            print(f"  [{status}] {link['app']}: {link['path']} -> {link['target']}{reason}")
    if "relocated" in result:
        moved = result["relocated"]["library"]
        print(f"the library moved from {moved['from']} to {moved['to']}: run `modeld links repair`")


def _print_report(what: str, report: dict[str, Any]) -> None:
    print(
        f"links {what}: {report['created']} created, {report['unchanged']} unchanged, "
        f"{report['fixed']} fixed, {report['released']} released, {report['unfixed']} unfixed"
    )
    for conflict in report["conflicts"]:
        where = conflict["linked_as"] or "not linked"
        print(f"  conflict: {conflict['path']} is taken ({conflict['occupied_by']}): {where}")
    for problem in report["problems"]:
        print(f"  problem: {problem.get('path') or problem.get('app')}: {problem['reason']}")
    for app in report["apps"]:
        if app["state"] != "online":
            print(
                f"  app {app['name']}: {app['state']}{': ' + app['error'] if app['error'] else ''}"
            )
