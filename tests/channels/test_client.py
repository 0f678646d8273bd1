"""The client pseudonym: the server's, never the sender's, and no address in the clear."""

from __future__ import annotations

from channels.client import pseudonym, with_client


def test_a_supplied_client_is_replaced_and_the_rest_kept():
    metadata = with_client({"client": "forged", "locale": "de"}, "203.0.113.7")
    assert metadata == {"client": pseudonym("203.0.113.7"), "locale": "de"}


def test_the_pseudonym_is_stable_distinct_and_not_the_address():
    assert pseudonym("203.0.113.7") == pseudonym("203.0.113.7") != pseudonym("203.0.113.8")
    assert "203.0.113.7" not in pseudonym("203.0.113.7")


def test_without_an_address_there_is_no_client_and_odd_metadata_is_dropped():
    assert with_client("not an object", None) == {"client": None}
