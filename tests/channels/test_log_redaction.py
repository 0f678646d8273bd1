"""Warnings and errors leave out what customers typed; redacted_logging.yml installs that filter."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys

import pytest

from channels.log_redaction import RedactingFilter, hiding
from local_stack import REPO

EMAIL = "carla.rossi@example.com"
CARD = "3782 822463 10005"
IBAN = "AT61 1904 3002 3457 3201"


@pytest.fixture
def log() -> tuple[logging.Logger, io.StringIO]:
    """A logger writing through the filter into a string."""
    written = io.StringIO()
    handler = logging.StreamHandler(written)
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger(f"test.redaction.{id(written)}")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    return logger, written


def test_emails_cards_and_ibans_leave_warnings(log):
    logger, written = log
    logger.warning("lookup for %s failed, paid with %s, refund to %s", EMAIL, CARD, IBAN)
    assert EMAIL not in written.getvalue() and "822463" not in written.getvalue() and "1904" not in written.getvalue()
    assert "lookup for [email] failed" in written.getvalue()


def test_the_message_being_handled_leaves_warnings_however_it_is_quoted(log):
    logger, written = log
    text = 'I want "the blue one", not the red'
    with hiding(text):
        logger.warning("Failed to parse arguments in line '%s'", text)
        logger.error(json.dumps({"event": "odd", "raw": text}))
    logger.warning("after: %s", text)
    lines = written.getvalue().splitlines()
    assert all("blue one" not in line for line in lines[:2]), lines
    # Outside the turn that handles it, the text is just text (and innocent words are not blanked).
    assert "blue one" in lines[2]


def test_rasa_structured_events_lose_their_message_fields(log):
    logger, written = log
    logger.error(json.dumps({"text": "my address is Gartenweg 3", "event": "rest.message.received.failure",
                             "exception": [{"frames": [{"locals": {"text": "'Gartenweg 3'"}}]}]}))
    assert "Gartenweg" not in written.getvalue()
    assert "rest.message.received.failure" in written.getvalue()


def test_a_traceback_loses_them_too(log):
    logger, written = log
    try:
        raise ValueError(f"no order for {EMAIL}")
    except ValueError:
        logger.exception("lookup failed")
    assert "Traceback" in written.getvalue() and EMAIL not in written.getvalue()


def test_info_and_debug_stay_as_they_are(log):
    logger, written = log
    logger.info("sent a code to %s", EMAIL)
    assert EMAIL in written.getvalue()


def test_the_logging_configuration_installs_the_filter_and_routes_warnings_through_it():
    # In a process of its own, as the servers read it: dictConfig replaces the handlers of the process.
    program = f"""
import logging, logging.config, warnings, yaml
logging.config.dictConfig(yaml.safe_load(open({str(REPO / "redacted_logging.yml")!r})))
warnings.warn("Failed to parse arguments in line '/inform{{\\"email\\": \\"{EMAIL}\\"}}'", UserWarning)
logging.getLogger("rasa.core.processor").error("could not handle %s", {IBAN!r})
"""
    result = subprocess.run([sys.executable, "-c", program], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert "Failed to parse arguments" in result.stderr and "could not handle" in result.stderr, result.stderr
    assert EMAIL not in result.stderr and "3457" not in result.stderr, result.stderr
