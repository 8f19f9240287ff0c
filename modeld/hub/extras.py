"""Niceties on top of a confirmed match: the repo card's summary and a preview image.

Both are fetched only once the match is confirmed by hash, and any failure
just leaves them out: the match stands without them.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from modeld.config import Config
from modeld.hub.card import card_summary
from modeld.hub.client import HubClient
from modeld.hub.errors import HubOffline, HubUnavailable, RepoNotAvailable
from modeld.hub.lookup import LookupOutcome
from modeld.hub.lookupstate import LookupState
from modeld.hub.preview import IMAGE_SUFFIXES, MAX_PREVIEW_BYTES, image_suffix, preview_name
from modeld.ingest import attach
from modeld.ingest.journal import Journal
from modeld.library.metadata import ModelMeta
from modeld.vocab.filenames import is_weights_name

log = logging.getLogger(__name__)


def card_description(client: HubClient, outcome: LookupOutcome) -> str | None:
    """The first paragraph of a confirmed repo's model card; None when there is none."""
    hub = outcome.hub or {}
    if outcome.state is not LookupState.CONFIRMED or not hub.get("repo_id"):
        return None
    try:
        card = client.model_card(hub["repo_id"], hub.get("revision") or "main")
    except (HubUnavailable, HubOffline, RepoNotAvailable) as exc:
        log.info("hub: no model card for %s: %s", hub["repo_id"], exc)
        return None
    return card_summary(card) or None


def fetch_preview(
    config: Config, client: HubClient, folder: Path, meta: ModelMeta, outcome: LookupOutcome
) -> None:
    """The confirmed repo's preview image, filed beside a model that has none.

    The image goes in through the importer's attach step, so it is copied,
    fsynced, recorded in metadata.json and linked like a preview the user dropped.
    """
    hub = outcome.hub or {}
    repo_path = hub.get("preview")
    weights = [f for f in meta.files if is_weights_name(f.name)]
    if (
        not config.hub.previews
        or outcome.state is not LookupState.CONFIRMED
        or not repo_path
        or len(weights) != 1
        or "/" in weights[0].name
        or any(f.name.lower().endswith(IMAGE_SUFFIXES) for f in meta.files)
    ):
        return
    repo_id = hub["repo_id"]
    try:
        data = client.repo_file(
            repo_id,
            hub.get("revision") or "main",
            repo_path,
            max_bytes=MAX_PREVIEW_BYTES,
            lfs=True,
        )
    except (HubUnavailable, HubOffline, RepoNotAvailable) as exc:
        log.info("hub: no preview from %s: %s", repo_id, exc)
        return
    suffix = image_suffix(data or b"")
    if data is None or suffix is None:
        log.info("hub: %s of %s is not a PNG, JPEG or WebP image", repo_path, repo_id)
        return
    name = preview_name(weights[0].name, suffix)
    owner = attach.Owner(meta.id, folder)
    journal = Journal(config.journal_path)
    with tempfile.TemporaryDirectory(prefix="modeld-preview-") as temp:
        fetched = Path(temp) / name
        fetched.write_bytes(data)
        try:
            attach.attach(config.library_root, journal, fetched, owner, copy=True)
        except OSError as exc:  # a user's own preview of that name wins
            log.info("hub: preview %s not filed: %s", name, exc)
            return
    log.info("hub: preview for %s from %s/%s", meta.id, repo_id, repo_path)
