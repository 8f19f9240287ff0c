"""systemd user units for the daemon and the tray, and `systemctl --user` plans.

The unit text is rendered here, from a `ServiceSpec`, for both uses:
`modeld service install` (the running interpreter, the config in use, written
to ~/.config/systemd/user/) and the native package (/usr/bin/modeld, shipped
in /usr/lib/systemd/user/; systemd/ in the repository holds that rendering).
"""

from __future__ import annotations

import shlex
from pathlib import Path

from modeld.service.base import ServiceManager, first_line
from modeld.service.plan import (
    Host,
    InstallRecord,
    Plan,
    RemoveFile,
    Run,
    ServiceSpec,
    WriteFile,
    record_for,
    removals,
    stale_removals,
)

DAEMON_UNIT = "modeld.service"
TRAY_UNIT = "modeld-tray.service"
# what the native package installs (packaging/build_deb.py)
PACKAGED_SPEC = ServiceSpec(launcher=("/usr/bin/modeld",), config_file=None, tray=True)

SYSTEMCTL = ("systemctl", "--user")
# unit properties `modeld service status` reports
STATUS_PROPERTIES = (
    "LoadState",
    "ActiveState",
    "SubState",
    "UnitFileState",
    "MainPID",
    "NRestarts",
    "Result",
    "StatusText",
    "FragmentPath",
)

# Hardening that works in a *user* manager. Everything here is enforced with
# seccomp, which an unprivileged manager may install (NoNewPrivileges makes it
# allowed). Options that need a mount namespace (ProtectSystem, ProtectHome,
# PrivateTmp, ReadWritePaths...) are left out on purpose: in a user unit they
# imply PrivateUsers=, which fails to start where unprivileged user namespaces
# are restricted (Ubuntu 24.04's AppArmor default), and modeld must reach
# whatever folders the user configures: drop folders, drives, app installs.
# The tray's unit takes these (and SystemCallArchitectures=); the daemon's
# takes all of _HARDENING.
_BASE_HARDENING = (
    "NoNewPrivileges=yes",
    "LockPersonality=yes",
    "RestrictRealtime=yes",
    "RestrictSUIDSGID=yes",
)
_HARDENING = (
    *_BASE_HARDENING,
    "RestrictNamespaces=yes",
    "SystemCallArchitectures=native",
    "SystemCallFilter=@system-service",
    # a blocked call fails with EPERM (an error modeld reports) instead of SIGSYS (a crash)
    "SystemCallErrorNumber=EPERM",
    # unix: control and notify sockets; inet: the Hugging Face Hub; netlink:
    # glibc's getaddrinfo asks the kernel which address families are up
    "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK",
)


def quote_arg(arg: str, executable: bool = False) -> str:
    """One ExecStart= word in systemd's syntax (systemd.service(5), "Command lines").

    ``%`` starts a specifier everywhere, so it is doubled. In the arguments
    ``$`` starts a variable (doubled too) and a word with blanks, quotes or
    backslashes is double-quoted with C escapes. The executable path is not
    variable-expanded, and systemd refuses one that holds quotes or
    backslashes ("Executable name contains special characters").
    """
    if any(ord(ch) < 0x20 or ch == "\x7f" for ch in arg):
        raise ValueError(f"a control character cannot be put in a unit file: {arg!r}")
    if executable:
        if any(ch in arg for ch in "\"'\\"):
            raise ValueError(
                f"systemd does not accept quotes or backslashes in a program path: {arg}"
            )
        escaped = arg.replace("%", "%%")
        return f'"{escaped}"' if any(ch in arg for ch in " \t;") else escaped
    escaped = arg.replace("%", "%%").replace("$", "$$")
    if arg and not any(ch in arg for ch in " \t\"'\\;"):
        return escaped
    return '"' + escaped.replace("\\", "\\\\").replace('"', '\\"') + '"'


def command_line(argv: list[str]) -> str:
    program, *arguments = argv
    return " ".join([quote_arg(program, executable=True), *map(quote_arg, arguments)])


def desktop_exec(argv: list[str]) -> str:
    """An Exec= line for an XDG autostart .desktop file (Desktop Entry spec, "The Exec key")."""
    reserved = set(" \t\n\"'\\><~|&;$*?#()`")
    words = []
    for arg in argv:
        if any(ch in reserved for ch in arg):
            escaped = "".join("\\" + ch if ch in '"`$\\' else ch for ch in arg)
            arg = f'"{escaped}"'
        # % introduces a field code; the string-value escape layer doubles backslashes
        words.append(arg.replace("%", "%%").replace("\\", "\\\\"))
    return " ".join(words)


def render_daemon_unit(spec: ServiceSpec) -> str:
    lines = [
        "[Unit]",
        "Description=modeld: keeps a local AI model collection in order",
        # give up after 5 failed starts in 5 minutes instead of looping forever
        "StartLimitIntervalSec=300",
        "StartLimitBurst=5",
        "",
        "[Service]",
        # READY=1 comes after the index is open, the watches are up and the
        # control socket listens; WATCHDOG=1 comes from a health check
        "Type=notify",
        "NotifyAccess=main",
        f"ExecStart={command_line(spec.command('run'))}",
        "Restart=on-failure",
        "RestartSec=5",
        "TimeoutStartSec=90",
        # SIGTERM lets an import in flight finish its current file or roll back
        "TimeoutStopSec=30",
        "WatchdogSec=60",
        "Environment=PYTHONUNBUFFERED=1",
        "SyslogIdentifier=modeld",
        # a background job: polite to the desktop, but not idle-class I/O,
        # which would stall a 20 GB import whenever anything else reads the disk
        "Nice=10",
        "IOSchedulingClass=best-effort",
        "IOSchedulingPriority=7",
        *_HARDENING,
        "",
        "[Install]",
        "WantedBy=default.target",
    ]
    return "\n".join(lines) + "\n"


def render_tray_unit(spec: ServiceSpec) -> str:
    # Bound to the graphical session as systemd.special(7) describes: started
    # with it, stopped with it, never started without one (Requisite=).
    lines = [
        "[Unit]",
        "Description=modeld tray icon",
        "PartOf=graphical-session.target",
        "Requisite=graphical-session.target",
        f"After=graphical-session.target {DAEMON_UNIT}",
        f"Wants={DAEMON_UNIT}",
        "",
        "[Service]",
        "Type=exec",
        f"ExecStart={command_line(spec.command('tray'))}",
        "Restart=on-failure",
        "RestartSec=5",
        "Environment=PYTHONUNBUFFERED=1",
        "SyslogIdentifier=modeld-tray",
        *_BASE_HARDENING,
        "SystemCallArchitectures=native",
        "",
        "[Install]",
        "WantedBy=graphical-session.target",
    ]
    return "\n".join(lines) + "\n"


def unit_dir(host: Host) -> Path:
    """Where a user's own units live (systemd.unit(5): ~/.config/systemd/user)."""
    return host.xdg_dir("XDG_CONFIG_HOME", ".config") / "systemd" / "user"


def parse_show(output: str) -> dict[str, str]:
    """`systemctl show --property=...` output (KEY=value lines) as a dict."""
    properties = {}
    for line in output.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            properties[key] = value
    return properties


class Systemd(ServiceManager):
    """Plans and queries a systemd user instance (`systemctl --user`)."""

    name = "systemd"
    services = (DAEMON_UNIT, TRAY_UNIT)
    logs_hint = "journalctl --user -u modeld"

    def unavailable(self) -> str | None:
        """Why no user manager can be reached, or None when it answers."""
        result = self.runner([*SYSTEMCTL, "show", "--property=Version"])
        if result.returncode == 0 and "Version=" in result.output:
            return None
        return result.output or f"systemctl exited with status {result.returncode}"

    def _graphical_session_active(self) -> bool:
        result = self.runner([*SYSTEMCTL, "is-active", "graphical-session.target"])
        return result.returncode == 0 and result.output.strip() == "active"

    def plan_install(self, spec: ServiceSpec, previous: InstallRecord | None) -> Plan:
        units_dir = unit_dir(self.host)
        units = {DAEMON_UNIT: render_daemon_unit(spec)}
        if spec.tray:
            units[TRAY_UNIT] = render_tray_unit(spec)
        writes = [WriteFile(units_dir / name, text.encode()) for name, text in units.items()]
        record = record_for(self.name, list(units), writes, dirs=[])
        plan = Plan(self.name)

        if previous is not None:
            stale_units = [u for u in previous.services if u not in units]
            if stale_units:
                plan.actions.append(Run((*SYSTEMCTL, "disable", "--now", *stale_units), False))
            plan.actions += stale_removals(previous, writes)

        plan.actions += writes
        plan.actions.append(WriteFile(self.host.record_path, record.to_json()))
        plan.actions += [
            Run((*SYSTEMCTL, "daemon-reload")),
            Run((*SYSTEMCTL, "enable", *units)),
            # restart, not start: a reinstall must pick up the new unit
            Run((*SYSTEMCTL, "restart", DAEMON_UNIT)),
        ]
        if spec.tray:
            if self._graphical_session_active():
                plan.actions.append(Run((*SYSTEMCTL, "restart", TRAY_UNIT), required=False))
            else:
                plan.notes.append(
                    "no graphical session is active: the tray starts with the next one"
                )
        return plan

    def plan_uninstall(self, record: InstallRecord) -> Plan:
        plan = Plan(self.name)
        if record.services:
            plan.actions.append(Run((*SYSTEMCTL, "disable", "--now", *record.services), False))
        plan.actions += removals(record, plan.notes)
        plan.actions.append(Run((*SYSTEMCTL, "daemon-reload"), required=False))
        if record.services:
            # forget a failed state, or `systemctl --user --failed` lists a unit that is gone
            plan.actions.append(Run((*SYSTEMCTL, "reset-failed", *record.services), False))
        plan.actions.append(RemoveFile(self.host.record_path))
        return plan

    def service_file(self, service: str) -> Path:
        return unit_dir(self.host) / service

    def query(self, service: str) -> dict[str, str]:
        result = self.runner(
            [*SYSTEMCTL, "show", service, "--property=" + ",".join(STATUS_PROPERTIES)]
        )
        return parse_show(result.output) if result.returncode == 0 else {}

    def summarize(self, properties: dict[str, str]) -> str:
        if properties.get("LoadState") == "not-found":
            return "not installed"
        summary = f"{properties.get('ActiveState', '?')} ({properties.get('SubState', '?')})"
        if properties.get("UnitFileState"):
            summary += f", {properties['UnitFileState']}"
        if properties.get("MainPID", "0") != "0":
            summary += f", pid {properties['MainPID']}"
        if properties.get("NRestarts", "0") != "0":
            summary += f", {properties['NRestarts']} restarts"
        if properties.get("StatusText"):
            summary += f": {properties['StatusText']}"
        return summary

    def installed_message(self) -> str:
        return (
            f"modeld runs as the user service {DAEMON_UNIT} and starts at login.\n"
            f"logs: {self.logs_hint}    state: modeld service status"
        )

    def advice(self, spec: ServiceSpec, reason: str) -> str:
        argv = spec.command("run")
        return (
            f"no systemd user instance answers ({first_line(reason)}).\n"
            "To run modeld as a service anyway:\n"
            "  - log in as this user directly (a desktop or ssh login starts the user\n"
            "    manager; su and sudo do not), then run `modeld service install` again;\n"
            "    `loginctl enable-linger $USER` keeps it running when you are logged out;\n"
            "  - without systemd, start it from your session's autostart, e.g. a file\n"
            "    ~/.config/autostart/modeld.desktop with\n"
            "      [Desktop Entry]\n"
            "      Type=Application\n"
            "      Name=modeld\n"
            f"      Exec={desktop_exec(argv)}\n"
            f"    or run `{shlex.join(argv)}` from your init system."
        )
