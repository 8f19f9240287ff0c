"""Log lines that any file name can appear in.

A file name may hold a newline (which would forge a second log line), other
control characters, or bytes that are not UTF-8 (lone surrogates, which make
a UTF-8 stream raise and the line be lost to a "--- Logging error ---"
traceback). `EscapingFormatter` shows every text argument of a log call as
`naming.display_name` does ('\\n', '\\xff'), and the daemon's log file is
opened with errors="backslashreplace" for whatever reaches it otherwise (an
f-string message, an exception's text).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

from modeld.vocab.naming import display_name

# what the daemon's log file is opened with: never raise on a character
ENCODING = "utf-8"
ERRORS = "backslashreplace"


def _escaped(value: Any) -> Any:
    if isinstance(value, str | PurePath):
        return display_name(str(value))
    return value


class EscapingFormatter(logging.Formatter):
    """A `logging.Formatter` whose text arguments are escaped one-line text."""

    def format(self, record: logging.LogRecord) -> str:
        args = record.args
        if args:
            if isinstance(args, Mapping):
                escaped: Any = {key: _escaped(value) for key, value in args.items()}
            else:
                escaped = tuple(_escaped(value) for value in args)
            # a copy: other handlers of the same record format it themselves
            record = logging.makeLogRecord({**record.__dict__, "args": escaped})
        return super().format(record)
