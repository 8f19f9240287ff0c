"""Library commands: search, list, show, remove, scan, verify, quarantine, config."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modeld.cli.context import (
    EXIT_FAILURE,
    Context,
    Subparsers,
    add_command,
    add_group,
    add_model_id,
    print_json,
)
from modeld.cli.errors import CliError
from modeld.cli.progress import ProgressLine
from modeld.sizes import human_size

if TYPE_CHECKING:
    from modeld.library.metadata import ModelMeta


def register(subparsers: Subparsers) -> None:
    p = add_command(subparsers, "search", cmd_search, "full-text search")
    p.add_argument("query", nargs="*", metavar="QUERY")
    p.add_argument("--type", dest="model_type", metavar="T", help="only this model_type")
    p.add_argument("--limit", type=int, default=50, metavar="N")

    add_command(subparsers, "list", cmd_list, "every model")

    p = add_command(subparsers, "show", cmd_show, "one model, with its links")
    add_model_id(p)

    p = add_command(
        subparsers, "remove", cmd_remove, "remove a model: links, then files and records"
    )
    add_model_id(p)
    p.add_argument("--yes", action="store_true", help="do not ask")

    p = add_command(subparsers, "scan", cmd_scan, "re-read the library into the index")
    p.add_argument("--deep", action="store_true", help="rebuild from every metadata.json")

    p = add_command(subparsers, "verify", cmd_verify, "re-hash files and report any that changed")
    add_model_id(p, optional=True)

    quarantine = add_group(subparsers, "quarantine", "files refused as dangerous")
    add_command(quarantine, "list", cmd_quarantine_list, "quarantined files and why")

    config = add_group(subparsers, "config", "where the config is read from / what it says")
    add_command(config, "path", cmd_config_path, "the config file in use")
    add_command(config, "show", cmd_config_show, "the effective config")


# -- search / list / show -------------------------------------------------------


def cmd_search(args: argparse.Namespace, ctx: Context) -> int:
    # lazy: CLI start-up (search reads on plain sqlite3: no ORM to load)
    from modeld.library.rows import model_objects
    from modeld.library.search import search_rows

    if args.limit < 0:
        raise CliError("--limit must be zero or more", code=2)
    index = ctx.read_index()
    rows = search_rows(index, " ".join(args.query), model_type=args.model_type, limit=args.limit)
    models = model_objects(index, ctx.config.library_root, rows)
    if args.json:
        print_json(models)
    else:
        _print_table(models)
    return 0


def cmd_list(args: argparse.Namespace, ctx: Context) -> int:
    from modeld.library.db import ModelRecord
    from modeld.library.index import model_objects

    ctx.open_index()
    records = list(ModelRecord.select().order_by(ModelRecord.name.collate("NOCASE")))
    models = model_objects(ctx.config.library_root, records)
    if args.json:
        print_json(models)
    else:
        _print_table(models)
    return 0


def _print_table(models: list[dict[str, Any]]) -> None:
    if not models:
        print("no models")
        return
    for model in models:
        detail = model["quant"] or model["precision"] or ""
        kind = f"{model['model_type']}/{model['family']}"
        size = human_size(model["size"])
        print(f"{model['id']}  {kind:<24} {size:>9}  {detail:<8} {model['name']}")


def _links_for(ctx: Context, model_id: str) -> list[dict[str, Any]]:
    from modeld.links import LinkManager

    return LinkManager(ctx.config).links_for_model(model_id)


def cmd_show(args: argparse.Namespace, ctx: Context) -> int:
    from modeld.library.index import model_object
    from modeld.library.metadata import read_metadata

    record = ctx.require_model(args.model_id)
    model = model_object(ctx.config.library_root, record)
    model["links"] = _links_for(ctx, record.model_id)
    folder = Path(model["path"])
    try:
        meta = read_metadata(folder)
    except (OSError, ValueError):
        meta = None
    if args.json:
        if meta is not None:
            model["description"] = meta.description
            model["labels"] = meta.labels
            model["original_names"] = [f.original_name for f in meta.files]
            model["imported_at"] = meta.imported_at
            model.update({k: v for k, v in meta.extra.items() if k.startswith("hub_")})
        print_json(model)
        return 0
    print(f"{model['name']}  ({model['id']})")
    if meta is not None and meta.description:
        print(f"  {meta.description}")
    for key in ("model_type", "family", "format", "precision", "quant"):
        print(f"  {key:<11} {model[key] if model[key] is not None else '-'}")
    print(f"  {'size':<11} {human_size(model['size'])}")
    print(f"  {'folder':<11} {model['path']}")
    print(f"  {'sha256':<11} {model['sha256']}")
    print(f"  {'blake3':<11} {model['blake3']}")
    print("  files:")
    for file in model["files"]:
        print(f"    {Path(file['path']).name}  {human_size(file['size'])}")
    for line in _hub_lines(model, meta):
        print(line)
    print("  links:" if model["links"] else "  links:     none")
    for link in model["links"]:
        print(f"    [{link['status']}] {link['app']}: {link['path']}")
    return 0


def _hub_lines(model: dict[str, Any], meta: ModelMeta | None) -> list[str]:
    from modeld.hub.present import hub_lines

    return hub_lines(model.get("hub"), meta.extra if meta else {})


# -- remove ---------------------------------------------------------------------


def cmd_remove(args: argparse.Namespace, ctx: Context) -> int:
    from modeld.library.index import remove_model

    record = ctx.require_model(args.model_id)
    folder = ctx.config.library_root / record.rel_path
    if not args.yes:
        if not sys.stdin.isatty():
            raise CliError(f"refusing to remove {record.model_id} without --yes")
        answer = input(
            f"Remove {record.name} ({record.model_id}) and its files in {folder}? [y/N] "
        )
        if answer.strip().lower() not in ("y", "yes"):
            print("kept")
            return 0
    from modeld.links import LinkManager

    links_removed = LinkManager(ctx.config).remove_model_links(record.model_id)
    remove_model(record.model_id)
    if folder.is_dir() and not folder.is_symlink():
        shutil.rmtree(folder)
    result = {"removed": record.model_id, "path": str(folder), "links_removed": links_removed}
    if args.json:
        print_json(result)
    else:
        print(f"removed {record.model_id} ({record.name})")
    return 0


# -- scan / verify ----------------------------------------------------------------


def cmd_scan(args: argparse.Namespace, ctx: Context) -> int:
    from modeld.library.deepscan import scan_library

    ctx.open_index()
    report = scan_library(ctx.config.library_root, deep=args.deep).to_json()
    if args.json:
        print_json(report)
    else:
        print(
            f"found {report['found']}, indexed {report['indexed']}, "
            f"unchanged {report['unchanged']}, removed from index {report['removed']}"
        )
        for item in report["skipped"]:
            print(f"skipped {item['path']}: {item['reason']}", file=sys.stderr)
    return 0


def cmd_verify(args: argparse.Namespace, ctx: Context) -> int:
    from modeld.library.db import ModelRecord
    from modeld.library.verify import verify_models

    if args.model_id:
        records = [ctx.require_model(args.model_id)]
    else:
        ctx.open_index()
        records = list(ModelRecord.select())
    line = ProgressLine(enabled=not args.json and sys.stderr.isatty())

    def progress(name: str, done: int, total: int) -> None:
        if line.label != name:
            line.finish()
            line.start(name, total)
        line.update(done, total)

    report = verify_models(ctx.config.library_root, records, progress=progress)
    line.finish()
    if args.json:
        print_json(report)
    else:
        print(f"checked {report['checked']} files: {report['ok']} ok")
        for item in report["mismatched"]:
            print(f"CHANGED  {item['path']} (model {item['id']})")
        for item in report["missing"]:
            print(f"MISSING  {item['path']} (model {item['id']})")
    return EXIT_FAILURE if report["mismatched"] or report["missing"] else 0


# -- quarantine / config --------------------------------------------------------------


def cmd_quarantine_list(args: argparse.Namespace, ctx: Context) -> int:
    from modeld.ingest.quarantine import list_quarantine

    entries = list_quarantine(ctx.config.quarantine_dir)
    if args.json:
        print_json(entries)
    elif not entries:
        print("quarantine is empty")
    else:
        for entry in entries:
            print(f"{entry['quarantined_path']}\n    from {entry['path']}: {entry['reason']}")
    return 0


def cmd_config_path(args: argparse.Namespace, ctx: Context) -> int:
    from modeld.config import resolve_config_path

    path, _ = resolve_config_path(ctx.config_path)
    if args.json:
        print_json({"path": str(path), "exists": path.exists()})
    else:
        print(path if path.exists() else f"{path} (not present: built-in defaults apply)")
    return 0


def cmd_config_show(args: argparse.Namespace, ctx: Context) -> int:
    from modeld.config import config_as_dict

    document = config_as_dict(ctx.config)
    if args.json:
        print_json(document)
    else:
        print(json.dumps(document, indent=2))
    return 0
