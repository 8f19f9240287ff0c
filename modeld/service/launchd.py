"""launchd agents for the daemon and the tray (macOS), and `launchctl` plans.

The property lists are built as dicts and written with plistlib, so they are
well-formed by construction; launchd.plist(5) documents every key used here.
"""

from __future__ import annotations

import os
import plistlib
import re
from pathlib import Path
from typing import Any

from modeld.service.base import ServiceManager, first_line
from modeld.service.plan import (
    Host,
    InstallRecord,
    MakeDir,
    Plan,
    RemoveFile,
    Run,
    ServiceSpec,
    WriteFile,
    record_for,
    removals,
    stale_removals,
)

DAEMON_LABEL = "org.modeld.daemon"
TRAY_LABEL = "org.modeld.tray"
# launchd starts agents with only this PATH (launchd.plist(5), EnvironmentVariables)
LAUNCHD_DEFAULT_PATH = "/usr/bin:/bin:/usr/sbin:/sbin"
# where a Homebrew-installed tool lives, on Apple silicon and on Intel
HOMEBREW_PATHS = "/opt/homebrew/bin:/usr/local/bin"
# launchd restarts a crashed agent at most this often; its default is also 10 s
THROTTLE_SECONDS = 10


def agents_dir(host: Host) -> Path:
    return host.home / "Library" / "LaunchAgents"


def log_dir(host: Host) -> Path:
    """~/Library/Logs/modeld, where Console.app looks for a user's logs."""
    return host.home / "Library" / "Logs" / "modeld"


def _environment(spec: ServiceSpec) -> dict[str, str]:
    launcher_dir = os.path.dirname(spec.launcher[0])
    return {
        "PATH": f"{launcher_dir}:{HOMEBREW_PATHS}:{LAUNCHD_DEFAULT_PATH}",
        "PYTHONUNBUFFERED": "1",
        # the daemon logs to its own (rotated) log file under launchd: the
        # stdout/stderr files below are never rotated, so they are for crashes only
        "MODELD_SERVICE": "launchd",
    }


def _agent(
    label: str, argv: list[str], spec: ServiceSpec, logs: Path, log_name: str
) -> dict[str, Any]:
    """The keys both agents share (plistlib sorts keys, so the order here is free)."""
    return {
        "Label": label,
        "ProgramArguments": argv,
        "RunAtLoad": True,
        # restart after a crash or a failing exit, not after a clean stop
        "KeepAlive": {"SuccessfulExit": False},
        "ThrottleInterval": THROTTLE_SECONDS,
        "EnvironmentVariables": _environment(spec),
        "StandardOutPath": str(logs / f"{log_name}.stdout.log"),
        "StandardErrorPath": str(logs / f"{log_name}.stderr.log"),
    }


def daemon_agent(spec: ServiceSpec, logs: Path) -> dict[str, Any]:
    return {
        **_agent(DAEMON_LABEL, spec.command("run"), spec, logs, "daemon"),
        # Background would throttle disk I/O, and a user who dropped a 20 GB
        # model expects it imported now, not when the Mac is idle
        "ProcessType": "Standard",
    }


def tray_agent(spec: ServiceSpec, logs: Path) -> dict[str, Any]:
    return {
        **_agent(TRAY_LABEL, spec.command("tray"), spec, logs, "tray"),
        # a menu-bar icon needs the logged-in desktop (Aqua), never ssh sessions
        "LimitLoadToSessionType": "Aqua",
        "ProcessType": "Interactive",
    }


def dumps(agent: dict[str, Any]) -> bytes:
    return plistlib.dumps(agent, fmt=plistlib.FMT_XML, sort_keys=True)


_PRINT_LINE = re.compile(r"^\t(?P<key>[a-z][a-z ]*[a-z]) = (?P<value>[^{]*)$")


def parse_print(output: str) -> dict[str, str]:
    """The top-level ``key = value`` lines of `launchctl print gui/UID/LABEL`.

    launchctl's output is meant for people and has no stable format; the
    lines read here (state, pid, runs, last exit code, path) have kept their
    shape across macOS releases. Nested blocks ``key = { ... }`` are skipped.
    """
    properties = {}
    for line in output.splitlines():
        match = _PRINT_LINE.match(line)
        if match:
            properties[match["key"]] = match["value"].strip()
    return properties


class Launchd(ServiceManager):
    """Plans and queries the user's launchd GUI domain (`launchctl ... gui/UID`)."""

    name = "launchd"
    services = (DAEMON_LABEL, TRAY_LABEL)

    @property
    def domain(self) -> str:
        return f"gui/{self.host.uid}"

    def service_file(self, service: str) -> Path:
        return agents_dir(self.host) / f"{service}.plist"

    def unavailable(self) -> str | None:
        """Why the GUI domain cannot take agents (e.g. an ssh session), or None."""
        result = self.runner(["launchctl", "print", self.domain])
        if result.returncode == 0:
            return None
        return result.output or f"launchctl exited with status {result.returncode}"

    def plan_install(self, spec: ServiceSpec, previous: InstallRecord | None) -> Plan:
        logs = log_dir(self.host)
        agents = {DAEMON_LABEL: daemon_agent(spec, logs)}
        if spec.tray:
            agents[TRAY_LABEL] = tray_agent(spec, logs)
        writes = [WriteFile(self.service_file(label), dumps(a)) for label, a in agents.items()]

        created_dirs = list(previous.dirs) if previous else []
        plan = Plan(self.name)
        if previous is not None:
            for label in previous.services:
                if label not in agents:
                    plan.actions.append(Run(self._bootout(label), required=False))
            plan.actions += stale_removals(previous, writes)
        if not logs.exists():
            plan.actions.append(MakeDir(logs))
            created_dirs.append(str(logs))

        record = record_for(self.name, list(agents), writes, [Path(d) for d in created_dirs])
        plan.actions += writes
        plan.actions.append(WriteFile(self.host.record_path, record.to_json()))
        for label in agents:
            required = label == DAEMON_LABEL  # a tray that fails to load is reported, not fatal
            plan.actions += [
                # a loaded agent must be booted out before its new plist can be bootstrapped
                Run(self._bootout(label), required=False),
                # undo an earlier `launchctl disable`, which would make bootstrap fail
                Run(("launchctl", "enable", f"{self.domain}/{label}"), required=required),
                Run(
                    ("launchctl", "bootstrap", self.domain, str(self.service_file(label))),
                    required=required,
                ),
            ]
        python = os.path.realpath(spec.launcher[0])
        plan.notes.append(
            "macOS protects ~/Downloads, ~/Documents, ~/Desktop and external volumes: if "
            "modeld watches or links there, add this interpreter in System Settings > "
            f"Privacy & Security > Full Disk Access: {python}"
        )
        return plan

    def plan_uninstall(self, record: InstallRecord) -> Plan:
        plan = Plan(self.name)
        plan.actions += [Run(self._bootout(label), required=False) for label in record.services]
        plan.actions += removals(record, plan.notes)
        plan.actions.append(RemoveFile(self.host.record_path))
        return plan

    def query(self, service: str) -> dict[str, str]:
        result = self.runner(["launchctl", "print", f"{self.domain}/{service}"])
        return parse_print(result.output) if result.returncode == 0 else {}

    def summarize(self, properties: dict[str, str]) -> str:
        summary = properties.get("state", "?")
        if "pid" in properties:
            summary += f", pid {properties['pid']}"
        if "last exit code" in properties:
            summary += f", last exit {properties['last exit code']}"
        return summary

    def installed_message(self) -> str:
        return (
            f"modeld runs as the launch agent {DAEMON_LABEL} and starts at login.\n"
            "logs: modeld's log file (modeld config show), crashes in ~/Library/Logs/modeld/"
        )

    def advice(self, spec: ServiceSpec, reason: str) -> str:
        run = " ".join(spec.command("run"))
        return (
            f"the launchd GUI domain {self.domain} is not available "
            f"({first_line(reason)}).\n"
            "Agents load into a desktop login: log in to the Mac as this user and run\n"
            f"`modeld service install` again, or run `{run}` in a terminal."
        )

    def _bootout(self, label: str) -> tuple[str, ...]:
        return ("launchctl", "bootout", f"{self.domain}/{label}")
