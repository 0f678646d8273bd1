"""Issue 9, finding 9, against the real servers: with the action server gone mid-conversation, every turn
still gets an answer, and the turns that needed the action server get the apology with the way to a person.

A stack of its own: the test kills its action server. The conversation is written for this test; do not
copy its phrasings into data/.
"""

from __future__ import annotations

import pytest
import yaml

from local_stack import REPO
from tests.e2e.conftest import Chat, new_stack

pytestmark = pytest.mark.e2e

APOLOGY = yaml.safe_load((REPO / "domain.yml").read_text())["responses"]["utter_technical_problem"][0]["text"]
# Turns after the outage: a form waiting for an email, a new lookup, a policy question, a person, small talk.
TURNS_WITHOUT_ACTIONS = [
    "ben.miller@example.com",
    "what about order 100241 then?",
    "how much does shipping to austria cost?",
    "I want to talk to a person",
    "carla.rossi@example.com",
    "is there a warranty on the headlamp?",
    "thanks anyway",
    "hello?",
]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    running = new_stack(tmp_path_factory.mktemp("actions-down"))
    try:
        running.start()
        yield running
    finally:
        running.stop()


def test_no_turn_is_left_empty_when_the_action_server_dies(stack):
    chat = Chat(stack)
    # Mid-conversation: the order lookup is waiting for the email when the action server goes.
    assert "email" in chat.say("where's my parcel for order 100234?").lower()
    actions = stack.processes["actions"]
    actions.kill()
    actions.wait(timeout=30)

    replies = [chat.say(text) for text in TURNS_WITHOUT_ACTIONS]

    empty = [text for text, reply in zip(TURNS_WITHOUT_ACTIONS, replies) if not reply.strip()]
    assert empty == [], empty
    # The email that the dead action server should have checked, at least, gets the apology.
    assert APOLOGY in replies[0], replies[0]
    assert "support@shop.example" in APOLOGY
