"""The signed proof of ownership: only this server's key, this conversation and an unexpired token count."""

from __future__ import annotations

from actions.proof import PROOF_LIFETIME_SECONDS, Proof, ProofSigner

KEY = b"k" * 32
ANNA = Proof("anna.schmidt@example.com", frozenset({"100231", "100232"}), "cust_anna")


def test_a_proof_reads_back_for_its_own_conversation():
    signer = ProofSigner(KEY)
    assert signer.read("conv-a", signer.sign("conv-a", ANNA)) == ANNA


def test_a_proof_is_worth_nothing_in_another_conversation():
    signer = ProofSigner(KEY)
    assert signer.read("conv-b", signer.sign("conv-a", ANNA)) is None


def test_a_proof_signed_with_another_key_is_refused():
    forged = ProofSigner(b"x" * 32).sign("conv-a", ANNA)
    assert ProofSigner(KEY).read("conv-a", forged) is None


def test_a_widened_claim_breaks_the_signature():
    signer = ProofSigner(KEY)
    body, mac = signer.sign("conv-a", Proof("anna.schmidt@example.com", frozenset({"100231"}))).split(".")
    other_body, _ = signer.sign("conv-a", ANNA).split(".")
    assert signer.read("conv-a", f"{other_body}.{mac}") is None
    assert signer.read("conv-a", f"{body}.{mac}") is not None


def test_a_proof_expires_with_the_session():
    now = [1_000_000.0]
    signer = ProofSigner(KEY, clock=lambda: now[0])
    token = signer.sign("conv-a", ANNA)
    now[0] += PROOF_LIFETIME_SECONDS + 1
    assert signer.read("conv-a", token) is None


def test_anything_else_in_the_slot_proves_nothing():
    signer = ProofSigner(KEY)
    for junk in (None, "", "100232", "a.b.c", "####.####", 42, {"orders": ["100232"]}):
        assert signer.read("conv-a", junk) is None


def test_widening_keeps_what_was_proven_before():
    one = Proof("anna.schmidt@example.com", frozenset({"100231"}))
    assert one.widened(frozenset({"100235"}), "cust_anna") == Proof(
        "anna.schmidt@example.com", frozenset({"100231", "100235"}), "cust_anna")
