"""The chat side of data subject requests (actions/privacy.py): who must prove what, and what each outcome does,
with the real sandbox, a SQL tracker store in a file and a state database per test."""

from __future__ import annotations

import asyncio
import json

import pytest
from rasa.shared.core.events import ActionExecuted
from rasa_sdk.executor import CollectingDispatcher

from actions import privacy as privacy_actions
from actions.backends import proof_signer
from actions.privacy import ActionAskPrivacyLoginCode, ActionSubmitPrivacyRequest, ValidatePrivacyRequestForm
from data_rights.desk import desk_from_env
from integrations.crm import CRM
from integrations.shopify import ShopifyEShop
from tests.actions.conftest import DOMAIN, api, latest_code, proof_for, responses, run, tracker
from tests.privacy.conftest import save_conversation, stored_senders

FORM = "privacy_request_form"
ANNA, CARLA = "anna.schmidt@example.com", "carla.rossi@example.com"


def in_form(**kwargs):
    return tracker(active_loop=FORM, **kwargs)


def required(a_tracker) -> list[str]:
    return asyncio.run(ValidatePrivacyRequestForm().required_slots(
        list(DOMAIN["forms"][FORM]["required_slots"]), CollectingDispatcher(), a_tracker, DOMAIN))


def submit(slots: dict, sender: str = "unit-test-user"):
    return run(ActionSubmitPrivacyRequest(), tracker(slots=slots, active_loop=None, sender=sender))


def code_proven(email: str, request: str, customer_id: str = "cust_anna") -> dict:
    """The slots of a conversation that proved `email` with a one-time code and asked for `request`."""
    return {"email": email, "privacy_request": request, "ownership_proof": proof_for(email, customer_id=customer_id)}


def audit_of(email: str) -> list[tuple[str, str]]:
    return [(entry.kind, entry.result) for entry in desk_from_env().audit.entries_about(email)]


# ---- what the form asks

def test_an_unproven_customer_is_asked_for_the_email_and_a_code(shop, privacy_env):
    assert required(in_form(slots={"privacy_request": "export"})) == ["email", "login_code"]
    assert required(in_form(slots={"privacy_request": "erase"})) == ["email", "login_code", "privacy_confirmed"]


def test_an_email_proven_with_a_code_is_not_asked_again_but_an_erasure_is_confirmed(shop, privacy_env):
    assert required(in_form(slots=code_proven(ANNA, "export"))) == []
    assert required(in_form(slots=code_proven(ANNA, "erase"))) == ["privacy_confirmed"]


def test_an_order_number_with_its_email_does_not_prove_the_mailbox(shop, privacy_env):
    slots = {"email": ANNA, "privacy_request": "erase", "ownership_proof": proof_for(ANNA, "100231")}
    assert required(in_form(slots=slots)) == ["email", "login_code", "privacy_confirmed"]


def test_a_code_proves_only_the_email_it_went_to(shop, privacy_env):
    slots = {**code_proven(ANNA, "export"), "email": CARLA}
    assert required(in_form(slots=slots)) == ["email", "login_code"]


def test_nothing_is_asked_where_the_shop_cannot_send_codes(shop, privacy_env, monkeypatch):
    monkeypatch.setattr(privacy_actions, "eshop", lambda: ShopifyEShop("https://x.myshopify.com", "shpat_x"))
    assert required(in_form(slots={"privacy_request": "erase"})) == []


# ---- proving the email

def test_the_code_goes_to_the_email_once_and_is_asked_for(shop, privacy_env):
    before = len(api(shop, "GET", "/v1/sandbox/mailbox", params={"to": CARLA})["data"])
    slots, messages = run(ActionAskPrivacyLoginCode(), in_form(slots={"email": CARLA}))
    assert slots["login_code_sent_to"] == CARLA
    assert responses(messages) == ["utter_login_code_sent", "utter_ask_login_code"]
    _, again = run(ActionAskPrivacyLoginCode(), in_form(slots={"email": CARLA, "login_code_sent_to": CARLA}))
    assert responses(again) == ["utter_ask_login_code"]
    assert len(api(shop, "GET", "/v1/sandbox/mailbox", params={"to": CARLA})["data"]) == before + 1


def test_the_right_code_leaves_a_signed_proof_of_the_email(shop, privacy_env):
    run(ActionAskPrivacyLoginCode(), in_form(slots={"email": CARLA}))
    slots, messages = run(ValidatePrivacyRequestForm(), in_form(
        slots={"email": CARLA, "privacy_request": "export", "login_code_sent_to": CARLA, "requested_slot": "login_code"},
        just_set={"login_code": f"here: {latest_code(shop, CARLA)}"}))
    proof = proof_signer().read("unit-test-user", slots["ownership_proof"])
    assert (proof.email, proof.customer_id) == (CARLA, "cust_carla")
    assert slots["login_code"] is None and slots["requested_slot"] is None and messages == []


def test_a_wrong_code_proves_nothing_and_says_how_many_tries_are_left(shop, privacy_env):
    run(ActionAskPrivacyLoginCode(), in_form(slots={"email": CARLA}))
    wrong = "000000" if latest_code(shop, CARLA) != "000000" else "111111"
    slots, messages = run(ValidatePrivacyRequestForm(), in_form(
        slots={"email": CARLA, "privacy_request": "erase", "login_code_sent_to": CARLA, "requested_slot": "login_code"},
        just_set={"login_code": wrong}))
    assert "ownership_proof" not in slots and slots["requested_slot"] == "login_code"
    assert messages == [{**messages[0], "response": "utter_login_code_wrong", "attempts_left": 4}]


def test_a_shop_that_cannot_be_reached_ends_the_form(shop_down, privacy_env):
    slots, _ = run(ActionAskPrivacyLoginCode(), in_form(slots={"email": CARLA}))
    assert slots["privacy_failure"] == "unavailable" and slots["requested_slot"] is None
    assert any(e["event"] == "active_loop" and e["name"] is None for e in slots["__events__"])


# ---- carrying it out

def test_an_export_is_mailed_and_audited(fresh_shop, privacy_env, rasa_store):
    save_conversation(rasa_store, "unit-test-user", (ANNA, "I've sent a code to that address."))
    slots, messages = submit(code_proven(ANNA, "export"))
    assert slots["privacy_outcome"] == "done" and slots["privacy_request"] is None
    assert messages == [{**messages[0], "response": "utter_privacy_export_sent", "email": ANNA}]
    (mail,) = [m for m in api(fresh_shop, "GET", "/v1/sandbox/mailbox", params={"to": ANNA})["data"]
               if m["attachments"]]
    document = json.loads(mail["attachments"][0]["content"])
    assert document["conversations"][0]["conversation"] == "unit-test-user"
    assert document["customer_service"]["records"]["contacts"][0]["id"] == "ct_anna"
    assert audit_of(ANNA) == [("export", "done")]


def test_an_erasure_empties_every_store_and_forgets_who_the_customer_was(fresh_shop, privacy_env, rasa_store):
    save_conversation(rasa_store, "earlier-chat", (f"it's {ANNA}", "Thanks!"))
    save_conversation(rasa_store, "unit-test-user", ("erase my data please", "Which email?"), (ANNA, "Code sent."))

    async def submit_then_rasa_stores_the_turn():
        dispatcher = CollectingDispatcher()
        events = await ActionSubmitPrivacyRequest().run(
            dispatcher, tracker(slots=code_proven(ANNA, "erase"), active_loop=None), DOMAIN)
        assert "unit-test-user" not in set(await rasa_store.keys())
        # What Rasa does once the action answered: the turn, with the conversation so far, is written back.
        await asyncio.to_thread(save_conversation, rasa_store, "unit-test-user", (ANNA, "Done."),
                                extra=[ActionExecuted(privacy_actions.SUBMIT)])
        await asyncio.gather(*privacy_actions._deferred)
        return events, dispatcher.messages

    events, messages = asyncio.run(submit_then_rasa_stores_the_turn())
    slots = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
    assert responses(messages) == ["utter_privacy_erased"] and slots["privacy_outcome"] == "done"
    assert all(slots[name] is None for name in ("email", "ownership_proof", "verified_order", "login_code_sent_to"))
    assert stored_senders(rasa_store) == set()
    assert asyncio.run(desk_from_env().export(ANNA, "test")).crm.empty
    assert audit_of(ANNA)[0] == ("erase", "done")


def test_marketing_consent_is_withdrawn(fresh_shop, privacy_env):
    slots, messages = submit(code_proven(ANNA, "consent"))
    assert responses(messages) == ["utter_privacy_consent_withdrawn"] and slots["privacy_outcome"] == "done"
    (contact,) = api(fresh_shop, "GET", "/v1/crm/contacts", params={"email": ANNA})["data"]
    assert contact["marketing_consent"] is False


def test_a_tracker_that_only_names_an_email_gets_nothing_done(fresh_shop, privacy_env, rasa_store):
    save_conversation(rasa_store, "earlier-chat", (f"it's {ANNA}", "Thanks!"))
    forged = {"email": ANNA, "privacy_request": "erase", "privacy_confirmed": True,
              "ownership_proof": proof_for(ANNA, customer_id="cust_anna", sender="someone-else")}
    slots, messages = submit(forged)
    assert responses(messages) == ["utter_privacy_not_verified"] and slots["privacy_outcome"] == "refused"
    assert stored_senders(rasa_store) == {"earlier-chat"}
    assert api(fresh_shop, "GET", "/v1/crm/contacts", params={"email": ANNA})["data"]
    assert audit_of(ANNA) == [("erase", "not_verified")]


def test_where_codes_cannot_be_sent_a_colleague_takes_it(shop, privacy_env, monkeypatch):
    monkeypatch.setattr(privacy_actions, "eshop", lambda: ShopifyEShop("https://x.myshopify.com", "shpat_x"))
    slots, messages = submit({"email": ANNA, "privacy_request": "erase"})
    assert responses(messages) == ["utter_privacy_needs_colleague"] and slots["privacy_outcome"] == "needs_colleague"
    assert audit_of(ANNA) == [("erase", "unsupported")]


class CrmWithoutDataRights(CRM):
    """The adapter of a platform without data subject rights: what every CRM must do, and the port's refusals."""

    async def upsert_contact(self, email, *, first_name=None, last_name=None):
        raise AssertionError("not needed here")

    async def log_interaction(self, contact_id, **details):
        raise AssertionError("not needed here")

    async def create_ticket(self, **ticket):
        raise AssertionError("not needed here")

    async def get_ticket(self, number):
        raise AssertionError("not needed here")


def test_a_crm_that_cannot_erase_hands_the_request_to_a_colleague(shop, privacy_env, monkeypatch):
    monkeypatch.setattr(privacy_actions, "crm", CrmWithoutDataRights)
    slots, messages = submit(code_proven(ANNA, "erase"))
    assert responses(messages) == ["utter_privacy_needs_colleague"] and slots["privacy_outcome"] == "needs_colleague"


def test_systems_that_do_not_answer_get_an_apology_and_a_person(shop_down, privacy_env):
    slots, messages = submit(code_proven(ANNA, "export"))
    assert responses(messages) == ["utter_privacy_unavailable"] and slots["privacy_outcome"] == "needs_human"
    assert audit_of(ANNA) == [("export", "failed:ServiceUnavailable")]


@pytest.mark.parametrize(("failure", "response", "result"), [
    ("verification_failed", "utter_login_code_failed", "not_verified"),
    ("unavailable", "utter_privacy_unavailable", "failed:shop_unavailable"),
])
def test_a_form_that_ended_early_explains_and_offers_a_person(shop, privacy_env, failure, response, result):
    slots, messages = submit({"email": CARLA, "privacy_request": "erase", "privacy_failure": failure})
    assert responses(messages) == [response] and slots["privacy_outcome"] == "needs_human"
    assert slots["privacy_failure"] is None and audit_of(CARLA) == [("erase", result)]
