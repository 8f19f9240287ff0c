"""The library and each configured app as one pass sees them: where, online, how to link."""

from __future__ import annotations

import logging
import os
import posixpath
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

from modeld.config import AppConfig
from modeld.library.layout import INTERNAL_DIR, library_available
from modeld.links.canary import LinkMethod, choose_method, probe
from modeld.links.errors import LinkUnsupported
from modeld.links.kinds import KINDS, AppKind, get_kind
from modeld.links.mapping import folder_for, unnamed_folders, validated_folders
from modeld.links.model import LibraryModel
from modeld.links.overrides import parse_app_version
from modeld.links.paths import join
from modeld.vocab.paths import is_within

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Library:
    """A mounted library: its configured root, the same resolved, and its device."""

    root: str
    real: str
    device: int

    @classmethod
    def probe(cls, root: Path) -> Library | None:
        """None when the library is not there (drive unmounted): then nothing may change."""
        if not library_available(root):
            return None
        real = os.path.realpath(root)
        return cls(str(root), real, os.stat(real).st_dev)

    def target(self, model: LibraryModel, source: str) -> str:
        """The library file or folder as users see it (the configured root)."""
        return join(self.root, model.rel_path, source)

    def real_target(self, model: LibraryModel, source: str) -> str:
        """The same, resolved: what link text is computed from."""
        return join(self.real, model.rel_path, source)

    def contains(self, path: str) -> bool:
        return is_within(path, self.real) or is_within(path, self.root)


class AppDescription(TypedDict):
    """One app as a sync or repair report lists it (`apps`)."""

    name: str
    kind: str
    path: str
    state: str  # online | offline | error
    error: str | None
    version: str | None
    link: str | None  # the link kinds in use there, '/'-joined (None: none decided yet)
    folders: list[str]


class AppSite:
    """One `[[app]]`: its kind, its folders (discovered once per full pass), how links are made.

    The link method is decided per device by a canary in the folder itself, so
    a models/ subfolder that is a symlink to another drive gets what works there.
    """

    def __init__(self, app: AppConfig, library: Library):
        self.app = app
        self.name = app.name
        self.library = library
        kind = get_kind(app.kind)
        self.kind: AppKind | None = kind
        self.error = (
            None if kind else f"unknown kind {app.kind!r} (known: {', '.join(sorted(KINDS))})"
        )
        self.root = str(app.path)
        self.models_dir = str(kind.models_dir(app.path)) if kind else self.root
        self.configured = validated_folders(app.name, app.folders)
        self.available: frozenset[str] = frozenset()
        self.version_text: str | None = app.version
        self.version = parse_app_version(app.version)
        self._methods: dict[int, LinkMethod | LinkUnsupported] = {}  # by device
        self._folders: dict[str, LinkMethod | LinkUnsupported] = {}  # this pass's, by folder
        self._online = False
        self.start_pass()

    @property
    def online(self) -> bool:
        """The app's folder existed when this pass started: a missing one may be an unmounted
        drive, so nothing is made there."""
        return self.error is None and self._online

    def start_pass(self) -> None:
        """Look at the app folder again and forget which folders were made ready last pass."""
        self._online = os.path.isdir(self.root)
        self._folders.clear()

    def discover(self, announce: bool = False) -> None:
        """Re-read the folders under models/ and the app version; forget cached link methods.

        `announce` logs the folders no mapping uses (once per full sync, not per `show`).
        """
        self._methods.clear()
        self.start_pass()
        if not self.online or self.kind is None:
            return
        self.available = frozenset(
            posixpath.join(root, name)
            for root in self.kind.link_roots
            for name in _subfolders(join(self.models_dir, root))
        )
        if not self.app.version:
            self.version_text = self.kind.detect_version(Path(self.root))
            self.version = parse_app_version(self.version_text)
        extra = unnamed_folders(self.kind, self.available, self.configured)
        if extra and announce:
            log.info(
                "app %s: found folders %s under %s: each takes the model_type of its name; "
                "[app.folders] can send a type or family there",
                self.name,
                ", ".join(extra),
                self.models_dir,
            )

    def folder_for(self, model: LibraryModel) -> str | None:
        if self.kind is None:
            return None
        return folder_for(self.kind, model, self.configured, self.available)

    def folder_path(self, folder: str) -> str:
        return join(self.models_dir, folder)

    def method_for(self, folder: str) -> LinkMethod:
        """Make `folder` (inside the app) if needed, and say how to link into it.

        Raises LinkUnsupported with the reason when nothing works there, or when
        the folder leads into the library itself (linking there would write
        into the library). Decided once per folder per pass: a full pass asks
        for the same few folders once per model.
        """
        method = self._folders.get(folder)
        if method is None:
            method = self._folders[folder] = self._ready(folder)
        if isinstance(method, LinkUnsupported):
            raise method
        return method

    def _ready(self, folder: str) -> LinkMethod | LinkUnsupported:
        # checked live, not as of the pass start: makedirs below an unmounted
        # drive's mount point would write onto the disk underneath
        if self.error is not None or not os.path.isdir(self.root):
            return LinkUnsupported(f"app folder {self.root} is not there")
        if not is_within(folder, self.models_dir):
            return LinkUnsupported(f"{folder} is outside {self.models_dir}")
        os.makedirs(folder, exist_ok=True)
        real = os.path.realpath(folder)
        if self.library.contains(real):
            return LinkUnsupported(f"{folder} leads into the library ({real}); not linking there")
        device = os.stat(folder).st_dev
        method = self._methods.get(device)
        if method is None:
            support = probe(folder, os.path.join(self.library.real, INTERNAL_DIR))
            try:
                method = choose_method(self.app.link, support, device == self.library.device)
                log.debug("app %s: %s links in %s", self.name, method.kind, folder)
            except LinkUnsupported as exc:
                method = LinkUnsupported(f"cannot link into {folder}: {exc}")
                log.warning("app %s: %s", self.name, method)
            self._methods[device] = method
        return method

    def describe(self) -> AppDescription:
        methods = {m.kind for m in self._methods.values() if isinstance(m, LinkMethod)}
        return {
            "name": self.name,
            "kind": self.app.kind,
            "path": self.root,
            "state": "error" if self.error else ("online" if self.online else "offline"),
            "error": self.error,
            "version": self.version_text,
            "link": "/".join(sorted(methods)) or None,
            "folders": sorted(self.available),
        }


def _subfolders(folder: str) -> list[str]:
    try:
        with os.scandir(folder) as entries:
            return [e.name for e in entries if not e.name.startswith(".") and e.is_dir()]
    except OSError:
        return []
