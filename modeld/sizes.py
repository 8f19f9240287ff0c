"""Byte counts for people: one convention for the command line and the tray.

Decimal SI units (1 kB = 1000 B), as model hubs, file managers on GNOME and
macOS, and disk makers count: a "4.9 GB" checkpoint on its model card shows
here as 4.9 GB, not 4.6. Three significant digits are enough to tell models
apart: 950 B, 8.5 MB, 180 MB, 6.9 GB.
"""

from __future__ import annotations

UNITS = ("B", "kB", "MB", "GB", "TB", "PB")


def human_size(n: float) -> str:
    """`n` bytes as '950 B', '8.5 MB', '180 MB', '6.9 GB' (a rate: add '/s')."""
    value = float(n)
    for unit in UNITS[:-1]:
        text = _rounded(value, unit)
        # decide on the rounded text: 999_999 B is '1.0 MB', never '1000 kB'
        if float(text) < 1000:
            return f"{text} {unit}"
        value /= 1000
    return f"{_rounded(value, UNITS[-1])} {UNITS[-1]}"


def _rounded(value: float, unit: str) -> str:
    # one decimal only while it is a third significant digit (8.5 MB, but 85 MB)
    decimals = 0 if unit == "B" or value >= 9.95 else 1
    return f"{value:.{decimals}f}"
