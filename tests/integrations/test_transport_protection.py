"""The transport's protections against a local fake HTTP server: breaker, rate limits, retries, auth refresh, cache."""

from __future__ import annotations

import asyncio
import time

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from integrations.auth import OAuth2ClientCredentials
from integrations.errors import AuthenticationFailed, NotFound, RateLimited, ServiceUnavailable
from integrations.resilience import CircuitBreaker, RateLimiter, TtlCache, Upstream
from integrations.transport import HttpTransport, answer_within


def transport(url: str, **kwargs) -> HttpTransport:
    return HttpTransport(url, {}, platform="fake", **kwargs)


def run(coroutine):
    return asyncio.run(coroutine)


def test_an_open_circuit_fails_fast_without_calling(httpserver: HTTPServer):
    httpserver.expect_request("/x").respond_with_data("down", status=503)
    upstream = Upstream(breaker=CircuitBreaker(threshold=2, cool_down=60))
    client = transport(httpserver.url_for(""), upstream=upstream, max_attempts=1)
    for _ in range(2):
        with pytest.raises(ServiceUnavailable):
            run(client.get("/x"))
    calls_before = len(httpserver.log)
    started = time.monotonic()
    with pytest.raises(ServiceUnavailable, match="circuit open"):
        run(client.get("/x"))
    assert len(httpserver.log) == calls_before
    assert time.monotonic() - started < 0.1


def test_answers_that_blame_the_request_keep_the_circuit_closed(httpserver: HTTPServer):
    httpserver.expect_request("/x").respond_with_json({"message": "no such order"}, status=404)
    upstream = Upstream(breaker=CircuitBreaker(threshold=2, cool_down=60))
    client = transport(httpserver.url_for(""), upstream=upstream)
    for _ in range(3):
        with pytest.raises(NotFound):
            run(client.get("/x"))
    assert not upstream.breaker.is_open


def test_after_the_cool_down_one_trial_call_closes_the_circuit():
    now = [0.0]
    breaker = CircuitBreaker(threshold=1, cool_down=10, clock=lambda: now[0])
    breaker.record_failure()
    assert not breaker.allow()
    now[0] = 10.5
    assert breaker.allow()
    assert not breaker.allow(), "only one trial call while the upstream is in doubt"
    breaker.record_success()
    assert breaker.allow() and not breaker.is_open


def test_a_failed_trial_opens_the_circuit_again():
    now = [0.0]
    breaker = CircuitBreaker(threshold=1, cool_down=10, clock=lambda: now[0])
    breaker.record_failure()
    now[0] = 11
    assert breaker.allow()
    breaker.record_failure()
    now[0] = 15
    assert not breaker.allow()


def test_retry_after_within_the_budget_is_honoured_then_retried(httpserver: HTTPServer):
    httpserver.expect_ordered_request("/x").respond_with_response(
        Response('{"message": "slow down"}', status=429, headers={"Retry-After": "0.2"}, content_type="application/json")
    )
    httpserver.expect_ordered_request("/x").respond_with_json({"ok": True})
    started = time.monotonic()
    assert run(transport(httpserver.url_for("")).get("/x")) == {"ok": True}
    assert time.monotonic() - started >= 0.2
    assert len(httpserver.log) == 2


def test_retry_after_beyond_the_budget_gives_up_at_once_and_holds_back_later_calls(httpserver: HTTPServer):
    httpserver.expect_request("/x").respond_with_response(
        Response('{"message": "slow down"}', status=429, headers={"Retry-After": "30"}, content_type="application/json")
    )
    client = transport(httpserver.url_for(""))
    with pytest.raises(RateLimited) as raised:
        run(client.get("/x"))
    assert raised.value.retry_after == 30
    started = time.monotonic()
    with pytest.raises(RateLimited):
        run(client.get("/x"))
    assert len(httpserver.log) == 1, "the platform asked for 30 s of quiet"
    assert time.monotonic() - started < 0.1


def test_rate_limited_calls_do_not_open_the_circuit(httpserver: HTTPServer):
    httpserver.expect_request("/x").respond_with_response(
        Response("{}", status=429, headers={"Retry-After": "0"}, content_type="application/json")
    )
    upstream = Upstream(breaker=CircuitBreaker(threshold=1))
    with pytest.raises(RateLimited):
        run(transport(httpserver.url_for(""), upstream=upstream, max_attempts=1).get("/x"))
    assert not upstream.breaker.is_open


def test_the_client_side_limit_spaces_out_bursts():
    now = [0.0]
    limiter = RateLimiter(rate=2, burst=2, clock=lambda: now[0])
    limiter.take()
    limiter.take()
    assert limiter.wait_time() == pytest.approx(0.5)
    now[0] = 0.5
    assert limiter.wait_time() == 0


def test_creations_are_not_retried_where_the_platform_ignores_idempotency_keys(httpserver: HTTPServer):
    httpserver.expect_request("/x", method="POST").respond_with_data("oops", status=503)
    with pytest.raises(ServiceUnavailable):
        run(transport(httpserver.url_for(""), idempotent_creations=False).post("/x", {"a": 1}))
    assert len(httpserver.log) == 1


def test_read_only_posts_are_retried_even_there(httpserver: HTTPServer):
    httpserver.expect_ordered_request("/search", method="POST").respond_with_data("oops", status=503)
    httpserver.expect_ordered_request("/search", method="POST").respond_with_json({"results": []})
    client = transport(httpserver.url_for(""), idempotent_creations=False)
    assert run(client.query("/search", {"q": 1})) == {"results": []}
    assert "Idempotency-Key" not in httpserver.log[0][0].headers


def test_cached_reads_are_served_until_invalidated(httpserver: HTTPServer):
    httpserver.expect_request("/v1/products").respond_with_json({"n": 1})
    client = transport(httpserver.url_for(""))
    assert run(client.get("/v1/products", {"page": 1}, cache_for=60)) == {"n": 1}
    assert run(client.get("/v1/products", {"page": 1}, cache_for=60)) == {"n": 1}
    assert len(httpserver.log) == 1
    assert client.invalidate_cache("/v1/products") == 1
    run(client.get("/v1/products", {"page": 1}, cache_for=60))
    assert len(httpserver.log) == 2


def test_cache_entries_expire():
    now = [0.0]
    cache = TtlCache(clock=lambda: now[0])
    cache.put("k", "v", ttl=5)
    assert cache.get("k") == (True, "v")
    now[0] = 5
    assert cache.get("k") == (False, None)


def token_endpoint(httpserver: HTTPServer, *tokens: str) -> None:
    for token in tokens:
        httpserver.expect_ordered_request("/oauth/token", method="POST").respond_with_json(
            {"access_token": token, "token_type": "bearer", "expires_in": 3600}
        )


def test_oauth2_token_is_fetched_once_and_sent(httpserver: HTTPServer):
    token_endpoint(httpserver, "t1")
    httpserver.expect_request("/x", headers={"Authorization": "Bearer t1"}).respond_with_json({"ok": 1})
    credentials = OAuth2ClientCredentials(httpserver.url_for("/oauth/token"), "id", "secret", scope="read")
    client = transport(httpserver.url_for(""), credentials=credentials)
    run(client.get("/x"))
    run(client.get("/x"))
    form = httpserver.log[0][0].form
    assert (form["grant_type"], form["client_id"], form["scope"]) == ("client_credentials", "id", "read")
    assert [request.path for request, _ in httpserver.log].count("/oauth/token") == 1


def test_a_refused_token_is_refreshed_once(httpserver: HTTPServer):
    token_endpoint(httpserver, "old")
    httpserver.expect_ordered_request("/x", headers={"Authorization": "Bearer old"}).respond_with_json({}, status=401)
    token_endpoint(httpserver, "new")
    httpserver.expect_ordered_request("/x", headers={"Authorization": "Bearer new"}).respond_with_json({"ok": 1})
    credentials = OAuth2ClientCredentials(httpserver.url_for("/oauth/token"), "id", "secret")
    assert run(transport(httpserver.url_for(""), credentials=credentials).get("/x")) == {"ok": 1}


def test_wrong_client_credentials_are_an_authentication_failure(httpserver: HTTPServer):
    httpserver.expect_request("/oauth/token").respond_with_json({"error": "invalid_client"}, status=401)
    credentials = OAuth2ClientCredentials(httpserver.url_for("/oauth/token"), "id", "wrong")
    with pytest.raises(AuthenticationFailed):
        run(transport(httpserver.url_for(""), credentials=credentials).get("/x"))


def test_tokens_are_renewed_before_they_expire(httpserver: HTTPServer):
    now = [0.0]
    httpserver.expect_ordered_request("/oauth/token").respond_with_json({"access_token": "a", "expires_in": 100})
    httpserver.expect_ordered_request("/oauth/token").respond_with_json({"access_token": "b", "expires_in": 100})
    credentials = OAuth2ClientCredentials(httpserver.url_for("/oauth/token"), "id", "s", clock=lambda: now[0])
    assert credentials.headers()["Authorization"] == "Bearer a"
    now[0] = 30
    assert credentials.headers()["Authorization"] == "Bearer a"
    now[0] = 41  # inside the last minute of the token's life
    assert credentials.headers()["Authorization"] == "Bearer b"


def test_calls_made_for_one_answer_share_its_deadline(httpserver: HTTPServer):
    def slow_answer(request):
        time.sleep(0.2)
        return Response('{"ok": true}', content_type="application/json")

    httpserver.expect_request("/x").respond_with_handler(slow_answer)
    client = transport(httpserver.url_for(""))

    async def two_calls_in_one_action():
        answer_within(0.3)
        await client.get("/x")
        await client.get("/x")  # alone it would fit its own 0.6 s budget; together they do not

    started = time.monotonic()
    with pytest.raises(ServiceUnavailable):
        run(two_calls_in_one_action())
    assert time.monotonic() - started < 0.3 + 0.15


def test_without_a_shared_deadline_each_call_has_its_own_budget(httpserver: HTTPServer):
    httpserver.expect_request("/x").respond_with_handler(
        lambda request: (time.sleep(0.2), Response('{"ok": true}', content_type="application/json"))[1]
    )
    client = transport(httpserver.url_for(""))

    async def two_calls_after_the_reply():
        answer_within(None)
        return [await client.get("/x"), await client.get("/x")]

    assert run(two_calls_after_the_reply()) == [{"ok": True}, {"ok": True}]
