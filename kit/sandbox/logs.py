"""What the served sandbox's logs may hold: route templates, never raw paths, and nothing token-shaped.

- The access log names the route (`/2/chat/conversations/{id}/events`), never the path as sent
  (a token pasted as a path id), nor the query string.
- Every line of every log the server writes (uvicorn's, the access log, the sandbox's own) goes
  through `scrub`: `Bearer …`/`Basic …` values, `token=`/`code=`-style values, and any run of 20 or more
  base64url characters holding a letter (how every token and code the sandbox makes looks) become
  `<hidden>`. User ids and sequence ids (digits only) stay readable.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

__all__ = ["AccessTemplate", "Scrub", "install", "scrub"]

_AUTH = re.compile(r"(?i)\b(bearer|basic|oauth)(\s+)[^\s,;\"']+")
_PAIR = re.compile(
    r"(?i)\b((?:access_|refresh_|operator_)?token|code(?:_verifier)?|password|secret|authorization)"
    r"([\"']?\s*[=:]\s*[\"']?)[^\s\"'&,;]+"
)
_LONG = re.compile(r"(?<![A-Za-z0-9_-])(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{20,}")

HIDDEN = "<hidden>"


def scrub(text: str) -> str:
    """`text` with anything token-shaped replaced by ``<hidden>``."""
    text = _AUTH.sub(lambda m: m.group(1) + m.group(2) + HIDDEN, text)
    text = _PAIR.sub(lambda m: m.group(1) + m.group(2) + HIDDEN, text)
    return _LONG.sub(HIDDEN, text)


class Scrub(logging.Filter):
    """Rewrites a record's message, scrubbed, before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = scrub(str(record.msg))
        if isinstance(record.args, tuple):  # scrub each argument, so formatters that read args keep working
            record.args = tuple(scrub(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: scrub(v) if isinstance(v, str) else v for k, v in record.args.items()}
        if record.exc_info or record.exc_text:  # a trace may quote request data: keep its last line only
            last = logging.Formatter().formatException(record.exc_info).strip().splitlines()[-1] if record.exc_info else ""
            record.msg += f" [{scrub(last)}]".replace("%", "%%") if last else ""
            record.exc_info = None
            record.exc_text = None
        return True


class AccessTemplate(logging.Filter):
    """uvicorn's access record holds (client, method, path with query, version, status): the path
    becomes the route template the sandbox matched."""

    def __init__(self, template: Callable[[str, str], str]) -> None:
        super().__init__()
        self.template = template

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) >= 3:
            args = list(record.args)
            path = str(args[2]).split("?", 1)[0]
            try:
                args[2] = self.template(str(args[1]), path)
            except Exception:
                args[2] = "{unmatched path}"
            record.args = tuple(args)
        return True


def install(template: Callable[[str, str], str]) -> None:
    """Put the filters on the loggers and handlers uvicorn has configured (call after its logging
    is set up) and on the sandbox's own logger."""
    access = logging.getLogger("uvicorn.access")
    access.addFilter(AccessTemplate(template))
    loggers = [logging.getLogger(name) for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "kit.sandbox", "kit")]
    handlers = {h for lg in [*loggers, logging.getLogger()] for h in lg.handlers}
    for lg in loggers:
        lg.addFilter(Scrub())
    for handler in handlers:  # records propagated from any child logger pass a handler's filter too
        handler.addFilter(Scrub())
