"""What the systemd and launchd managers share: the host, the runner, status and leftovers.

Each manager also answers the questions the CLI would otherwise ask by its
name: how one service's state reads, where its logs go.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import TypedDict

from modeld.service.plan import Host, InstallRecord, Plan, Runner, ServiceSpec, run_command


def first_line(text: str) -> str:
    """The first line of a manager's (possibly multi-line) answer, for a one-line message."""
    lines = text.splitlines()
    return lines[0] if lines else "?"


class ManagerStatus(TypedDict):
    """`status()`: the JSON shape `modeld service status --json` starts from."""

    manager: str
    available: bool
    reason: str | None  # why the manager could not be asked
    services: dict[str, dict[str, str]]  # `query()` of each service


class ServiceManager(ABC):
    """One service manager: plans install/uninstall and reports the services' state."""

    name: str
    # the services modeld installs (unit names or labels), the daemon first
    services: tuple[str, ...]
    # where the daemon's logs can be read, for `service status`; None when they are only in a file
    logs_hint: str | None = None

    def __init__(self, host: Host, runner: Runner = run_command):
        self.host = host
        self.runner = runner

    @abstractmethod
    def unavailable(self) -> str | None:
        """Why the manager cannot be reached, or None when it answers."""

    @abstractmethod
    def plan_install(self, spec: ServiceSpec, previous: InstallRecord | None) -> Plan: ...

    @abstractmethod
    def plan_uninstall(self, record: InstallRecord) -> Plan: ...

    @abstractmethod
    def advice(self, spec: ServiceSpec, reason: str) -> str:
        """What a user can do when `unavailable()` gave `reason`."""

    @abstractmethod
    def installed_message(self) -> str:
        """What `service install` prints once the service runs."""

    @abstractmethod
    def service_file(self, service: str) -> Path:
        """Where install writes the file that defines `service`."""

    @abstractmethod
    def query(self, service: str) -> dict[str, str]:
        """The manager's properties of one service; empty when it could not be asked."""

    @abstractmethod
    def summarize(self, properties: dict[str, str]) -> str:
        """One line of `service status` from non-empty `query()` properties."""

    def status(self) -> ManagerStatus:
        reason = self.unavailable()
        if reason is not None:
            return {"manager": self.name, "available": False, "reason": reason, "services": {}}
        services = {service: self.query(service) for service in self.services}
        return {"manager": self.name, "available": True, "reason": None, "services": services}

    def installed_without_record(self) -> list[Path]:
        """Service files present that no install record accounts for."""
        paths = (self.service_file(service) for service in self.services)
        return [path for path in paths if path.exists()]
