"""A logging filter that keeps customers' words out of warning and error logs.

Records of level WARNING and above lose, before any handler writes them:
- the text of the message being handled (the guard names it, see `hiding`), however it is quoted,
- the values of the fields Rasa's structured log events carry message text in (the REST channel's
  "rest.message.received.failure" line repeats the whole message),
- email addresses, card numbers, security codes and IBANs, wherever they appear,
in the message, its traceback and its stack. Lower levels are left alone: they are off in production.

redacted_logging.yml installs it on the Rasa server and the action server (--logging-config-file).
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from contextvars import ContextVar
from typing import Iterator

from channels.payment_data import mask_payment_data

MESSAGE_PLACEHOLDER = "[message]"
FIELD_PLACEHOLDER = "[redacted]"
EMAIL_PLACEHOLDER = "[email]"
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Shorter texts ("hi", "yes") would only blank out innocent words of the log line.
MIN_HIDDEN_CHARS = 4
# The keys Rasa's structlog events put message text, entities and slot values under (rasa.utils.log_utils).
MESSAGE_FIELDS = frozenset({
    "text", "user_text", "message", "response_text", "parse_data_text", "parse_data_entities", "slot_values",
    "tracker_latest_message", "prediction_events", "prefilled_slots", "slot_candidates", "rasa_event",
    "rasa_events", "user_message", "json_message", "entity", "current_entity", "next_entity", "token_text",
})

# The texts of the message this task is handling (as typed and as masked), set by the guard.
_hidden: ContextVar[tuple[str, ...]] = ContextVar("hidden_message_texts", default=())


@contextlib.contextmanager
def hiding(*texts: str | None) -> Iterator[None]:
    """While the block runs (in this task), log records of WARNING and above do not show `texts`."""
    forms = tuple(form for text in texts if isinstance(text, str) and len(text) >= MIN_HIDDEN_CHARS
                  for form in _quoted_forms(text))
    token = _hidden.set(_hidden.get() + forms)
    try:
        yield
    finally:
        _hidden.reset(token)


class RedactingFilter(logging.Filter):
    def __init__(self, level: int | str = logging.WARNING) -> None:
        super().__init__()
        self.level = level if isinstance(level, int) else logging.getLevelName(level)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= self.level:
            _redact_record(record)
        return True


def redacting_filter(level: str = "WARNING", capture_warnings: bool = True) -> RedactingFilter:
    """The filter, for dictConfig's "()" key. Rasa reports odd input through the `warnings` module
    ("Failed to parse arguments in line '/inform{...}'"), which writes past every handler unless it is
    routed into logging: capture_warnings does that, so the filter sees those lines too."""
    logging.captureWarnings(capture_warnings)
    return RedactingFilter(level)


def redact(text: str) -> str:
    for form in sorted(_hidden.get(), key=len, reverse=True):
        text = text.replace(form, MESSAGE_PLACEHOLDER)
    text = _redact_message_fields(text)
    text = EMAIL.sub(EMAIL_PLACEHOLDER, text)
    return mask_payment_data(text).text


def _redact_record(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except (TypeError, ValueError):  # arguments that do not fit the format: keep what there is
        message = str(record.msg)
    record.msg, record.args = redact(message), ()
    if record.exc_info and not record.exc_text:
        # Formatters reuse exc_text, so the redacted traceback is the one written.
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


def _redact_message_fields(text: str) -> str:
    """A structlog event rendered as JSON, with the fields that carry message text blanked."""
    if not text.startswith("{"):
        return text
    try:
        event = json.loads(text)
    except ValueError:
        return text
    return json.dumps(_blank_fields(event))


def _blank_fields(value):
    # structlog renders a traceback with each frame's local variables: they hold the message too.
    if isinstance(value, dict):
        return {key: FIELD_PLACEHOLDER if key in MESSAGE_FIELDS or key == "locals" else _blank_fields(item)
                for key, item in value.items()}
    if isinstance(value, list):
        return [_blank_fields(item) for item in value]
    return value


def _quoted_forms(text: str) -> tuple[str, ...]:
    """The text as it appears in a log line: as is, JSON-escaped and repr-escaped."""
    return tuple(dict.fromkeys((text, json.dumps(text)[1:-1], repr(text)[1:-1])))
