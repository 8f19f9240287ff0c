"""What `modeld service install|uninstall` does, as a list of actions.

A manager (systemd or launchd) turns the host and the service spec into a
`Plan`: files to write, files to remove, commands to run, in order. The same
plan is printed by `--dry-run` and carried out by `apply`, so what a user
previews is exactly what happens. Every file `install` writes is listed in an
install record, and `uninstall` removes only what that record lists.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from modeld.vocab.atomic import atomic_write_bytes

RECORD_NAME = "service-install.json"
RECORD_VERSION = 1


@dataclass(frozen=True)
class Host:
    """The machine and user a service is installed for (the seam tests replace)."""

    platform: str  # a sys.platform value: "linux", "darwin", ...
    home: Path
    uid: int
    environ: Mapping[str, str]

    @classmethod
    def current(cls) -> Host:
        return cls(
            platform=sys.platform,
            home=Path.home(),
            uid=os.getuid(),
            environ=dict(os.environ),
        )

    def xdg_dir(self, variable: str, default: str) -> Path:
        value = self.environ.get(variable, "")
        # the XDG spec says relative values are invalid and must be ignored
        return Path(value) if value.startswith("/") else self.home / default

    @property
    def state_dir(self) -> Path:
        """Where the install record lives: one per user, like the unit it describes."""
        if self.platform == "darwin":
            return self.home / "Library" / "Application Support" / "modeld"
        return self.xdg_dir("XDG_STATE_HOME", ".local/state") / "modeld"

    @property
    def record_path(self) -> Path:
        return self.state_dir / RECORD_NAME


@dataclass(frozen=True)
class ServiceSpec:
    """What the service runs: a launcher (interpreter + module, or a script) and a config."""

    launcher: tuple[str, ...]
    config_file: Path | None = None
    tray: bool = True

    @classmethod
    def for_interpreter(cls, python: str, config_file: Path | None, tray: bool) -> ServiceSpec:
        # `python -m modeld`, not the `modeld` script on PATH: the absolute
        # interpreter path is what ties the service to modeld's environment
        return cls(launcher=(python, "-m", "modeld"), config_file=config_file, tray=tray)

    def command(self, subcommand: str) -> list[str]:
        config = ["--config", str(self.config_file)] if self.config_file else []
        return [*self.launcher, *config, subcommand]


# Each action says what it does in words (`describe`, for the CLI's lines and
# errors) and as a JSON object (`document`, for --json).


@dataclass(frozen=True)
class WriteFile:
    path: Path
    content: bytes
    mode: int = 0o644

    def describe(self) -> str:
        return f"write {self.path}"

    def document(self) -> dict[str, str]:
        return {
            "action": "write",
            "path": str(self.path),
            "mode": f"{self.mode:o}",
            "content": self.content.decode(),
        }


@dataclass(frozen=True)
class MakeDir:
    path: Path

    def describe(self) -> str:
        return f"create {self.path}"

    def document(self) -> dict[str, str]:
        return {"action": "mkdir", "path": str(self.path)}


@dataclass(frozen=True)
class RemoveFile:
    path: Path

    def describe(self) -> str:
        return f"remove {self.path}"

    def document(self) -> dict[str, str]:
        return {"action": "remove", "path": str(self.path)}


@dataclass(frozen=True)
class RemoveDirIfEmpty:
    path: Path

    def describe(self) -> str:
        return f"remove {self.path} if empty"

    def document(self) -> dict[str, str]:
        return {"action": "rmdir_if_empty", "path": str(self.path)}


@dataclass(frozen=True)
class Run:
    argv: tuple[str, ...]
    # a failed required command stops the plan; others are reported and skipped
    required: bool = True

    def describe(self) -> str:
        return f"run {shlex.join(self.argv)}"

    def document(self) -> dict[str, object]:
        return {"action": "run", "argv": list(self.argv), "required": self.required}


Action = WriteFile | MakeDir | RemoveFile | RemoveDirIfEmpty | Run


@dataclass
class Plan:
    manager: str
    actions: list[Action] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CommandResult:
    returncode: int
    output: str  # stdout and stderr, stripped


Runner = Callable[[Sequence[str]], CommandResult]


def run_command(argv: Sequence[str], timeout: float = 150.0) -> CommandResult:
    """Run a service-manager command; a missing program is a result, not an exception.

    The timeout is above systemd's start timeout for the unit (90 s), because
    `systemctl start` of a Type=notify unit waits for READY=1.
    """
    try:
        done = subprocess.run(
            list(argv),
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except FileNotFoundError:
        return CommandResult(127, f"{argv[0]}: command not found")
    except subprocess.TimeoutExpired:
        return CommandResult(124, f"{' '.join(argv)}: no answer after {timeout:.0f} s")
    output = "\n".join(part.strip() for part in (done.stdout, done.stderr) if part.strip())
    return CommandResult(done.returncode, output)


@dataclass
class Outcome:
    action: Action
    ok: bool
    detail: str = ""


@dataclass
class ApplyReport:
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.failure is None

    @property
    def failure(self) -> Outcome | None:
        """The failed file operation or required command that stopped the plan."""
        for outcome in self.outcomes:
            if not outcome.ok and _stops_plan(outcome.action):
                return outcome
        return None


def _stops_plan(action: Action) -> bool:
    return not isinstance(action, Run) or action.required


def apply(plan: Plan, runner: Runner = run_command) -> ApplyReport:
    """Carry out the plan in order; stop at the first failed file operation or required command."""
    report = ApplyReport()
    for action in plan.actions:
        outcome = _apply_one(action, runner)
        report.outcomes.append(outcome)
        if not outcome.ok and _stops_plan(action):
            break
    return report


def _apply_one(action: Action, runner: Runner) -> Outcome:
    try:
        if isinstance(action, Run):
            result = runner(action.argv)
            return Outcome(action, result.returncode == 0, result.output)
        if isinstance(action, WriteFile):
            action.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(action.path, action.content, action.mode)
        elif isinstance(action, MakeDir):
            action.path.mkdir(parents=True, exist_ok=True)
        elif isinstance(action, RemoveFile):
            action.path.unlink(missing_ok=True)
        elif isinstance(action, RemoveDirIfEmpty):
            try:
                action.path.rmdir()
            except FileNotFoundError:
                pass
            except OSError:  # not empty: logs or files the user put there stay
                return Outcome(action, True, "kept: not empty")
    except OSError as exc:
        return Outcome(action, False, f"{exc.strerror or exc}: {getattr(exc, 'filename', '')}")
    return Outcome(action, True)


@dataclass(frozen=True)
class InstallRecord:
    """What a previous `install` wrote: the only files `uninstall` may remove."""

    manager: str
    services: tuple[str, ...]  # systemd unit names or launchd labels
    files: Mapping[str, str]  # path -> sha256 of the content written
    dirs: tuple[str, ...] = ()  # directories install created

    def to_json(self) -> bytes:
        document = {
            "version": RECORD_VERSION,
            "manager": self.manager,
            "services": list(self.services),
            "files": dict(self.files),
            "dirs": list(self.dirs),
        }
        return (json.dumps(document, indent=2) + "\n").encode()

    @classmethod
    def from_json(cls, data: bytes) -> InstallRecord:
        document = json.loads(data)
        if not isinstance(document, dict) or document.get("version") != RECORD_VERSION:
            raise ValueError("not a modeld install record (unknown version)")
        files = document.get("files")
        if not isinstance(files, dict) or not all(
            isinstance(k, str) and k.startswith("/") and isinstance(v, str)
            for k, v in files.items()
        ):
            raise ValueError("install record: 'files' must map absolute paths to hashes")
        return cls(
            manager=str(document.get("manager", "")),
            services=tuple(str(s) for s in document.get("services", ())),
            files=files,
            dirs=tuple(str(d) for d in document.get("dirs", ()) if str(d).startswith("/")),
        )


def read_record(path: Path) -> InstallRecord | None:
    """The install record, or None when there is none; a damaged one is an error."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        return InstallRecord.from_json(data)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"cannot read the install record {path}: {exc}") from exc


def record_for(
    manager: str, services: Sequence[str], writes: Sequence[WriteFile], dirs: Sequence[Path]
) -> InstallRecord:
    return InstallRecord(
        manager=manager,
        services=tuple(services),
        files={str(w.path): hashlib.sha256(w.content).hexdigest() for w in writes},
        dirs=tuple(str(d) for d in dirs),
    )


def stale_removals(previous: InstallRecord, writes: Sequence[WriteFile]) -> list[Action]:
    """Remove the files an earlier install wrote that this one does not write again."""
    written = {str(w.path) for w in writes}
    return [RemoveFile(Path(p)) for p in previous.files if p not in written]


def removals(record: InstallRecord, notes: list[str]) -> list[Action]:
    """Remove exactly the recorded files (noting any edited since), then the recorded dirs."""
    actions: list[Action] = []
    for path_text, digest in record.files.items():
        path = Path(path_text)
        try:
            current = hashlib.sha256(path.read_bytes()).hexdigest()
        except FileNotFoundError:
            continue
        except OSError as exc:
            notes.append(f"cannot read {path}: {exc.strerror}")
            current = digest
        if current != digest:
            notes.append(f"{path} was edited after install; removing it anyway")
        actions.append(RemoveFile(path))
    actions += [RemoveDirIfEmpty(Path(d)) for d in record.dirs]
    return actions
