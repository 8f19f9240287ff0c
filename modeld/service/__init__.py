"""Running modeld under a service manager: sd_notify, systemd user units, launchd agents.

Submodules are imported where they are used; importing this package costs nothing.
"""
