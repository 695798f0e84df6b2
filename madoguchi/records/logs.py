"""Application logs as JSON lines, scrubbed of secrets and personal data (R21).

`ScrubFilter` goes on every handler (settings.LOGGING): it renders each record's
message, masks what must never be written, and leaves nothing in `args` for a later
formatter to put back. `JsonFormatter` writes one JSON object per line.

Masked: e-mail addresses; job-seeker numbers (canonical, full-width, with or without a
dash); passcodes, passwords, tokens, secrets and Authorization headers given as
key=value or key: value; bearer and basic credentials; Django-signed tokens and other
long random strings (seekers' links carry them in the path); query strings of URLs.
Names cannot be recognised: the code must not log them (tests/test_logs_scrubbed.py).
"""

import datetime as dt
import json
import logging
import re

_DIGIT = "[0-9０-９]"
_DASH = "[-‐‑‒–—―−ー－ｰ─━﹣]"
PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "[email]"),
    (
        re.compile(rf"(?<![0-9０-９]){_DIGIT}{{5}}\s*{_DASH}?\s*{_DIGIT}{{8}}(?![0-9０-９])"),
        "[number]",
    ),
    (re.compile(r"(?i)\b(bearer|basic|token)\s+[\w.~+/=-]{8,}"), r"\1 ***"),
    (
        re.compile(
            r"(?i)\b(passcode|password|passwd|pwd|token|secret|authorization|api[_-]?key"
            r"|access_token|refresh_token|client_secret|signature|sessionid|csrftoken)"
            r"(\"?'?\s*[:=]\s*\"?'?)(?!\*\*\*)[^\s\"'&,;}]+"
        ),
        r"\1\2***",
    ),
    # "passcode 123456" in prose: a value with a digit after the word.
    (re.compile(r"(?i)\b(passcode|password|pwd)(\s+)(?=[\w-]*\d)[\w-]+"), r"\1\2***"),
    (re.compile(r"(?<=[\w/])\?[^\s\"'<>]+"), "?[query]"),
    (re.compile(r"[\w-]{2,}:[\w-]{4,}:[\w-]{20,}"), "[token]"),
    (re.compile(r"(?<![\w-])[A-Za-z0-9_-]{32,}(?![\w-])"), "[token]"),
]


def scrub(text: str) -> str:
    for pattern, replacement in PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class ScrubFilter(logging.Filter):
    """Render and mask the record in place; it always lets the record through."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the log line
            message = f"{record.msg!r} {record.args!r}"
        record.msg, record.args = scrub(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, and exception."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        return json.dumps(line, ensure_ascii=False)
