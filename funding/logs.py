"""Logging for `funding serve`: one record is one line, whatever a request contains.

Paths, headers and exception messages can carry line breaks, NULs and terminal escapes; written
as they are, a request could forge a log line. `EscapeControlCharacters` sits on every handler
(uvicorn's access and error logs, the app's) and escapes them before any formatter runs. It also
hides the token in a pledge's private address (`/pledges/<token>`): whoever holds the token can
change or cancel the pledge, and logs are read by more people than pledgers.
"""

from __future__ import annotations

import copy
import logging
import numbers
import re

from litestar.logging import LoggingConfig
from litestar.logging.config import default_handlers

CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
"""C0 and C1 controls, DEL, and the Unicode line and paragraph separators."""


PRIVATE_TOKEN = re.compile(r"(/pledges/)[A-Za-z0-9_-]+")


def escape(text: str) -> str:
    """`text` with every control character written as a Python escape: `\\n`, `\\x00`, `\\u2028`,
    and a pledge's private token as `…`."""
    text = PRIVATE_TOKEN.sub(r"\1…", text)
    return CONTROL.sub(lambda match: match.group().encode("unicode_escape").decode("ascii"), text)


class _Escaped:
    """An argument that is neither text nor a number, escaped however the message formats it."""

    def __init__(self, value: object) -> None:
        self.value = value

    def __str__(self) -> str:
        return escape(str(self.value))

    def __repr__(self) -> str:
        return escape(repr(self.value))


def _escaped_argument(value: object) -> object:
    if isinstance(value, str):
        return escape(value)
    if value is None or isinstance(value, numbers.Number):
        return value  # `%d` and friends still work
    return _Escaped(value)


class EscapeControlCharacters(logging.Filter):
    """Escapes control characters in the message and its arguments, in place.

    The arguments stay arguments, so formatters that read them (uvicorn's access log does) keep
    working. A traceback keeps its line breaks, but every line of it is indented, so no text in
    it can start a line of its own.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = escape(record.msg)
        else:
            record.msg = _Escaped(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_escaped_argument(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _escaped_argument(value) for key, value in record.args.items()}
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = _indented(record.exc_text)
        if record.stack_info:
            record.stack_info = _indented(record.stack_info)
        return True


def _indented(text: str) -> str:
    if text.startswith("  | "):  # already done by another handler of this record
        return text
    return "\n".join("  | " + escape(line) for line in text.split("\n"))


FILTERS = {"escape_control_characters": {"()": EscapeControlCharacters}}


def uvicorn_log_config() -> dict:
    """uvicorn's own logging set-up, with the escaping filter on its access and error handlers."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = FILTERS
    for handler in config["handlers"].values():
        handler["filters"] = [*handler.get("filters", []), "escape_control_characters"]
    return config


def app_logging_config() -> LoggingConfig:
    """Litestar's logging: INFO and up through its queue handler, control characters escaped."""
    handlers = copy.deepcopy(default_handlers)
    # Every record enters through the queue handler; what sits behind it gets them escaped (and
    # on Python 3.12, already formatted: escaping there again would fold tracebacks into one line).
    handlers["queue_listener"]["filters"] = ["escape_control_characters"]
    return LoggingConfig(
        filters=FILTERS,
        handlers=handlers,
        root={"level": "INFO", "handlers": ["queue_listener"]},
        log_exceptions="never",
    )


def escaping_handler() -> logging.Handler:
    """A standard-error handler for the command line's own messages, escaped like the server's."""
    handler = logging.StreamHandler()
    handler.addFilter(EscapeControlCharacters())
    return handler
