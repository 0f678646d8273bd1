"""Return labels through public signed links: what a customer opens from the chat, without the API key."""

from __future__ import annotations

import hashlib
import hmac
import subprocess
import sys
import uuid
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from sandbox_backend.label_links import LIFETIME, LabelLinks, derived_secret, public_url_from_env
from sandbox_backend.errors import Forbidden
from tests.backend.client import Api, error_of
from tests.conftest import REPO, sandbox_environment

LABEL_SECRET = "label-links-test-secret"
TEE = {"sku": "merino-tee-l-green", "quantity": 1, "reason": "wrong_size", "condition": "unused"}


def open_return(api: Api, key: str | None = None) -> dict:
    return api.ok("POST", "/v1/returns", 201, json={"order_number": "100241", "items": [TEE]},
                  headers={"Idempotency-Key": key or f"label-{uuid.uuid4()}"})


def without_key(url: str, **params) -> requests.Response:
    """What a customer's browser does: no Authorization header at all."""
    return requests.get(url, params=params or None, timeout=5)


def link_parts(url: str) -> tuple[str, str, str]:
    """(path, expires, sig) of a label link."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    return parts.path, query["expires"][0], query["sig"][0]


def signed(secret: bytes, return_id: str, expires: int) -> str:
    return hmac.new(secret, f"{return_id}:{expires}".encode(), hashlib.sha256).hexdigest()


@pytest.fixture
def signing_api(launch_sandbox) -> Api:
    """A fresh sandbox whose label secret the test knows, so it can sign links of its own."""
    return Api(launch_sandbox(extra_env={"SANDBOX_LABEL_SECRET": LABEL_SECRET}))


def test_the_link_opens_the_label_without_the_api_key(fresh_api):
    rma = open_return(fresh_api)
    url = rma["label"]["label_url"]
    label = without_key(url)
    assert label.status_code == 200 and label.headers["Content-Type"] == "application/pdf"
    assert label.headers["Cache-Control"] == "private"
    assert label.content == fresh_api.call("GET", f"/v1/returns/{rma['id']}/label").content
    assert rma["number"].encode() in label.content


def test_the_link_holds_no_key_and_is_stable(fresh_api):
    key = f"label-{uuid.uuid4()}"
    rma = open_return(fresh_api, key)
    url = rma["label"]["label_url"]
    api_key = fresh_api.server.api_key
    assert api_key not in url and derived_secret(api_key).hex() not in url
    # One link per return: a replayed creation, a read by id or number and the list all give the same.
    assert open_return(fresh_api, key)["label"]["label_url"] == url
    assert fresh_api.ok("GET", f"/v1/returns/{rma['number']}")["label"]["label_url"] == url
    assert fresh_api.ok("GET", "/v1/returns", params={"order_number": "100241"})["data"][0]["label"]["label_url"] == url


def test_the_link_expires_thirty_days_after_the_return_was_opened(fresh_api):
    rma = open_return(fresh_api)
    _, expires, _ = link_parts(rma["label"]["label_url"])
    opened = datetime.fromisoformat(rma["created_at"].replace("Z", "+00:00"))
    assert abs(datetime.fromtimestamp(int(expires), timezone.utc) - (opened + LIFETIME)) < timedelta(seconds=1)


def test_without_a_label_secret_links_are_signed_with_one_derived_from_the_api_key(fresh_api):
    rma = open_return(fresh_api)
    path, expires, sig = link_parts(rma["label"]["label_url"])
    assert sig == signed(derived_secret(fresh_api.server.api_key), rma["id"], int(expires))
    assert sig != signed(fresh_api.server.api_key.encode(), rma["id"], int(expires))


def test_a_tampered_link_is_403_and_says_nothing_more(signing_api):
    first, second = open_return(signing_api), open_return(signing_api)
    base = signing_api.server.base_url
    path, expires, sig = link_parts(first["label"]["label_url"])
    flipped = ("0" if sig[0] != "0" else "1") + sig[1:]
    refused = [
        without_key(base + path, expires=expires, sig=flipped),
        without_key(base + path, expires=str(int(expires) + 86_400), sig=sig),  # a longer life
        without_key(f"{base}/labels/{second['id']}.pdf", expires=expires, sig=sig),  # another return
        without_key(f"{base}/labels/{first['number']}.pdf", expires=expires, sig=sig),  # its number, not its id
        without_key(base + path, expires=expires),
        without_key(base + path, sig=sig),
        without_key(base + path, expires=expires, sig=sig.upper()),
        without_key(base + path, expires="-1", sig=sig),
        without_key(base + path, expires=expires, sig=signed(b"another secret", first["id"], int(expires))),
    ]
    for response in refused:
        assert response.status_code == 403, response.url
        assert error_of(response) == {"type": "forbidden", "message": "This label link is not valid."}
    assert without_key(first["label"]["label_url"]).status_code == 200


def test_an_expired_link_is_403(signing_api):
    rma = open_return(signing_api)
    path, _, _ = link_parts(rma["label"]["label_url"])
    past = int((datetime.now(timezone.utc) - timedelta(minutes=1)).timestamp())
    expired = without_key(signing_api.server.base_url + path, expires=str(past),
                          sig=signed(LABEL_SECRET.encode(), rma["id"], past))
    assert expired.status_code == 403 and error_of(expired)["message"] == "This label link has expired."
    future = past + 3600
    assert without_key(signing_api.server.base_url + path, expires=str(future),
                       sig=signed(LABEL_SECRET.encode(), rma["id"], future)).status_code == 200


def test_a_signed_link_to_a_return_that_does_not_exist_is_404(signing_api):
    expires = int((datetime.now(timezone.utc) + timedelta(days=1)).timestamp())
    response = without_key(f"{signing_api.server.base_url}/labels/ret_000000000000.pdf", expires=str(expires),
                           sig=signed(LABEL_SECRET.encode(), "ret_000000000000", expires))
    assert response.status_code == 404 and error_of(response)["type"] == "not_found"


def test_links_point_to_the_public_url_when_one_is_set(launch_sandbox):
    api = Api(launch_sandbox(extra_env={"SANDBOX_PUBLIC_URL": "https://returns.shop.example/sandbox/"}))
    rma = open_return(api)
    url = rma["label"]["label_url"]
    assert url.startswith(f"https://returns.shop.example/sandbox/labels/{rma['id']}.pdf?expires=")
    # Served here all the same: the public URL is where a proxy forwards to this server.
    path, expires, sig = link_parts(url)
    assert without_key(f"{api.server.base_url}/labels/{rma['id']}.pdf", expires=expires, sig=sig).status_code == 200
    assert sig not in api.server.output()  # the access log keeps route templates, never the link


def test_a_public_url_that_is_no_url_stops_the_server(tmp_path):
    env = {**sandbox_environment("key", f"sqlite:///{tmp_path / 'never.db'}"), "SANDBOX_PUBLIC_URL": "shop.example"}
    result = subprocess.run([sys.executable, "-m", "sandbox_backend"], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and "SANDBOX_PUBLIC_URL" in result.stderr


@pytest.mark.parametrize(("value", "expected"), [
    ("", None), ("https://shop.example/", "https://shop.example"), ("http://127.0.0.1:8800", "http://127.0.0.1:8800"),
])
def test_public_url_setting(value, expected):
    assert public_url_from_env({"SANDBOX_PUBLIC_URL": value}) == expected


@pytest.mark.parametrize("value", ["shop.example", "ftp://shop.example", "https://", "https://shop.example/?a=1"])
def test_public_url_setting_refuses_what_is_no_base_url(value):
    with pytest.raises(ValueError):
        public_url_from_env({"SANDBOX_PUBLIC_URL": value})


def test_a_link_holds_until_its_expiry_and_not_a_second_longer():
    links = LabelLinks(b"secret")
    opened = datetime(2026, 11, 20, 14, 5)
    _, expires, sig = link_parts(links.url("http://x", "ret_1", opened))
    links.check("ret_1", expires, sig, opened + LIFETIME)
    with pytest.raises(Forbidden, match="expired"):
        links.check("ret_1", expires, sig, opened + LIFETIME + timedelta(seconds=1))
