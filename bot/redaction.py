"""Keeping tokens out of every log line and error message, whoever writes them.

SDKs log the URLs they call, and a Telegram bot token is part of every Bot API URL; an SDK's
exception may quote the token it rejected. A filter on a few named loggers misses records logged
before it is installed and loggers created later, so redaction happens where every record is
born: the log record factory. A token is registered the moment it is read from the environment.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

MASK = "<token>"
# Short values (a test's "x") would mask ordinary words; real tokens are long.
_MIN_SECRET = 8
_LOCK = threading.Lock()
_SECRETS: set[str] = set()
_installed = False


def redact(text: str) -> str:
    """`text` with every registered secret replaced by a mask."""
    for secret in _SECRETS:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def register(secret: str) -> None:
    """Never let `secret` reach a log line (installs the redaction on first use)."""
    if len(secret) < _MIN_SECRET:
        return
    with _LOCK:
        _SECRETS.add(secret)
        _install()


def _install() -> None:
    global _installed
    if _installed:
        return
    _installed = True
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if _SECRETS:
            _redact_record(record)
        return record

    logging.setLogRecordFactory(factory)


def _redact_record(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a malformed record is the logging module's to report, not ours
        return
    clean = redact(message)
    if clean != message:
        record.msg, record.args = clean, None
    if record.exc_info and record.exc_info[1] is not None:
        text = logging.Formatter().formatException(record.exc_info)
        if redact(text) != text:
            # Formatters print exc_text when it is set; the exception object keeps its text
            # for the code that handles it, but no handler prints it.
            record.exc_text = redact(text)
