"""One-time login codes: sent only to customers, read from the sandbox mailbox, 5 attempts, single use, hashed."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import create_engine, text

from tests.backend.client import error_of

SENT = {"status": "sent", "expires_in": 600}


def wrong_code(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def verify(api, email: str, code: str) -> dict:
    return api.ok("POST", "/v1/login-codes/verify", json={"email": email, "code": code})


def test_a_customer_gets_a_code_in_the_mailbox(api):
    response = api.post("/v1/login-codes", json={"email": "Anna.Schmidt@example.com"})
    assert response.status_code == 202 and response.json() == SENT
    newest = api.ok("GET", "/v1/sandbox/mailbox", params={"to": "anna.schmidt@example.com"})["data"][0]
    assert newest["to"] == "anna.schmidt@example.com" and newest["subject"] == "Your one-time code"
    assert api.latest_code("anna.schmidt@example.com") in newest["body"] and newest["sent_at"].endswith("Z")


def test_an_unknown_email_gets_the_same_answer_and_no_mail(api):
    response = api.post("/v1/login-codes", json={"email": "stranger@example.com"})
    assert response.status_code == 202 and response.json() == SENT
    assert api.ok("GET", "/v1/sandbox/mailbox", params={"to": "stranger@example.com"}) == {"data": []}
    assert verify(api, "stranger@example.com", "123456") == {"verified": False, "attempts_left": 0}


def test_a_wrong_code_costs_an_attempt_and_the_right_one_verifies_once(api):
    email = "ben.miller@example.com"
    api.ok("POST", "/v1/login-codes", 202, json={"email": email})
    code = api.latest_code(email)
    assert verify(api, email, wrong_code(code)) == {"verified": False, "attempts_left": 4}
    assert verify(api, email, wrong_code(code)) == {"verified": False, "attempts_left": 3}
    assert verify(api, email.upper(), code) == {"verified": True, "customer_id": "cust_ben"}
    assert verify(api, email, code) == {"verified": False, "attempts_left": 0}  # used up


def test_five_wrong_attempts_lock_the_code(api):
    email = "carla.rossi@example.com"
    api.ok("POST", "/v1/login-codes", 202, json={"email": email})
    code = api.latest_code(email)
    left = [verify(api, email, wrong_code(code))["attempts_left"] for _ in range(5)]
    assert left == [4, 3, 2, 1, 0]
    assert verify(api, email, code) == {"verified": False, "attempts_left": 0}


def test_concurrent_guesses_cannot_exceed_five_attempts(api):
    email = "david.chen@example.com"
    api.ok("POST", "/v1/login-codes", 202, json={"email": email})
    code = api.latest_code(email)
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: verify(api, email, wrong_code(code)), range(12)))
    assert sorted(a["attempts_left"] for a in answers) == [0] * 8 + [1, 2, 3, 4]
    assert verify(api, email, code)["verified"] is False


def test_concurrent_requests_for_one_email_leave_one_working_code(api):
    email = "carla.rossi@example.com"
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda _: api.post("/v1/login-codes", json={"email": email}), range(6)))
    assert [a.status_code for a in answers] == [202] * 6
    assert verify(api, email, api.latest_code(email)) == {"verified": True, "customer_id": "cust_carla"}


def test_a_new_code_replaces_the_old_one(api):
    email = "anna.schmidt@example.com"
    api.ok("POST", "/v1/login-codes", 202, json={"email": email})
    old = api.latest_code(email)
    api.ok("POST", "/v1/login-codes", 202, json={"email": email})
    new = api.latest_code(email)
    if old != new:
        assert verify(api, email, old) == {"verified": False, "attempts_left": 4}
    assert verify(api, email, new) == {"verified": True, "customer_id": "cust_anna"}


def test_codes_are_stored_hashed(api, sandbox_server):
    email = "ben.miller@example.com"
    api.ok("POST", "/v1/login-codes", 202, json={"email": email})
    code = api.latest_code(email)
    engine = create_engine(sandbox_server.database_url, future=True)
    with engine.connect() as connection:
        stored = connection.execute(text("select * from login_codes where email = :e"), {"e": email}).one()
    engine.dispose()
    assert len(stored.code_hash) == 64 and code not in "".join(str(value) for value in stored)


def test_malformed_requests_are_422(api):
    for path, body, field in [("/v1/login-codes", {}, "email"), ("/v1/login-codes", {"email": "nope"}, "email"),
                              ("/v1/login-codes/verify", {"email": "ben.miller@example.com"}, "code"),
                              ("/v1/login-codes/verify", {"email": "ben.miller@example.com", "code": 123456}, "code")]:
        response = api.post(path, json=body)
        assert response.status_code == 422 and field in error_of(response)["fields"], (path, body)
