"""`modeld hub lookup [MODEL_ID|--all]`: Hugging Face enrichment, now, in this process."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from modeld.cli.context import (
    EXIT_FAILURE,
    EXIT_OK,
    Context,
    Subparsers,
    add_command,
    add_group,
    print_json,
)
from modeld.cli.errors import CliError
from modeld.hub.lookupstate import LookupState

if TYPE_CHECKING:
    from modeld.hub.enrich import EnrichResult


def register(subparsers: Subparsers) -> None:
    lookup = add_command(
        add_group(subparsers, "hub", "Hugging Face metadata"),
        "lookup",
        run_lookup,
        "run Hugging Face enrichment now",
        description="Find each model's Hugging Face repo from local clues; confirm by sha256.",
    )
    target = lookup.add_mutually_exclusive_group()
    target.add_argument(
        "model_id",
        nargs="?",
        metavar="MODEL_ID",
        help="one model: an id, an id prefix, or the exact name",
    )
    target.add_argument(
        "--all",
        action="store_true",
        help="every model without a confirmed match (the default when no MODEL_ID is given)",
    )
    lookup.add_argument(
        "--refresh", action="store_true", help="ignore cached answers and existing matches"
    )


def run_lookup(args: argparse.Namespace, ctx: Context) -> int:
    from modeld.hub.errors import HubDisabled
    from modeld.hub.worker import HubEnricher

    ctx.open_index()
    # None: lookup_now picks every unconfirmed model (every model with --refresh)
    model_ids = [ctx.require_model(args.model_id).model_id] if args.model_id else None
    enricher = HubEnricher(ctx.config)
    # a human sees each model as it is done; --json prints one document at the end
    progress = None if args.json else (lambda result: print(_line(result), flush=True))
    try:
        results = enricher.lookup_now(model_ids, refresh=args.refresh, on_result=progress)
    except HubDisabled as exc:
        raise CliError(f"hub lookups are disabled: {exc}") from exc
    if args.json:
        print_json(
            {"results": [r.as_dict() for r in results], "requests": enricher.client.requests}
        )
    elif not results:
        print("nothing to look up")
    unfinished = [r for r in results if r.state in (LookupState.PENDING, LookupState.FAILED)]
    if unfinished:
        first = unfinished[0]
        reason = first.error or first.state
        print(f"modeld: {len(unfinished)} lookup(s) not finished: {reason}", file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_OK


def _line(result: EnrichResult) -> str:
    head = f"{result.id[:12]}  {result.name or '?'}: "
    state = result.state
    if state is LookupState.CONFIRMED:
        hub = result.hub or {}
        return head + f"{hub.get('repo_id')} ({hub.get('path')}, confirmed by sha256)"
    if state is LookupState.UNCONFIRMED:
        names = ", ".join(s.repo_id for s in result.suggestions[:3])
        return head + f"no confirmed match; unconfirmed: {names}"
    if state is LookupState.NOT_FOUND:
        return head + "not found on the Hub"
    if state is LookupState.PENDING:
        retry = result.retry_in
        when = f"; next try in {retry:.0f} s" if isinstance(retry, int | float) else ""
        return head + f"Hub unreachable, pending{when}"
    return head + f"{state}" + (f": {result.error}" if result.error else "")
