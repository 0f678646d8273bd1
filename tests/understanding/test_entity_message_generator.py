"""The generator of benchmarks/entity_extraction.py (issue 10): the instrument itself, without the model.

Deterministic, at least 500 messages per entity and format, every message holds its values where it says
(the typos and case changes never touch them), every value reads as what it is expected to be, and no
message is a training example: the benchmark must measure understanding, not memory.
"""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _load_benchmark():
    spec = importlib.util.spec_from_file_location("entity_extraction", REPO / "benchmarks" / "entity_extraction.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


ee = _load_benchmark()


@pytest.fixture(scope="module")
def messages():
    return ee.generate_all()


def test_the_same_seed_gives_the_same_messages_and_another_seed_others(messages):
    again = ee.generate_all()
    assert [m.text for m in again] == [m.text for m in messages]
    assert [m.expected for m in again] == [m.expected for m in messages]
    other = ee.generate("email", "common_domains", 50, seed=ee.SEED + 1)
    assert len({m.text for m in other} & {m.text for m in messages}) < 5


def test_a_shorter_run_is_the_start_of_the_full_one(messages):
    short = ee.generate("order_id", "space_grouped", 20)
    full = [m for m in messages if (m.entity, m.format) == ("order_id", "space_grouped")]
    assert [m.text for m in short] == [m.text for m in full[:20]]


def test_at_least_500_distinct_messages_per_entity_and_format(messages):
    counts = Counter((m.entity, m.format) for m in messages)
    assert set(counts) == {(entity, fmt) for entity, formats in ee.FORMATS.items() for fmt in formats}
    assert min(counts.values()) >= 500
    for key in counts:
        texts = [ee.message_key(m.text) for m in messages if (m.entity, m.format) == key]
        assert len(set(texts)) == len(texts), key


def test_every_message_holds_its_values_where_it_says(messages):
    for m in messages:
        assert len(m.written) == len(m.expected) == len(m.spans) >= 1, m
        for written, (start, end) in zip(m.written, m.spans):
            assert m.text[start:end] == written, m


def test_every_value_reads_as_what_is_expected(messages):
    for m in messages:
        if m.entity == "date":
            continue
        for written, expected in zip(m.written, m.expected):
            assert ee.canonical(m, written) == expected, m


def test_values_are_valid_for_the_actions(messages):
    from actions.user_input import normalized_email, normalized_order_number

    for m in messages:
        for expected in m.expected:
            if m.entity == "email":
                assert normalized_email(expected) == expected, m
            elif m.entity == "order_id":
                assert normalized_order_number(expected) == expected, m
            elif m.entity == "phone":
                assert expected.startswith("+") and 8 <= len(expected) - 1 <= 15 and expected[1:].isdigit(), m
            elif m.entity == "date":
                assert ee.TODAY < date.fromisoformat(expected) <= ee.TODAY + timedelta(days=28), m


def test_messages_vary_in_shape_and_style(messages):
    for entity in ee.FORMATS:
        mine = [m for m in messages if m.entity == entity]
        shapes = Counter(m.shape for m in mine)
        styles = Counter(style for m in mine for style in m.style)
        assert {"reply", "sentence", "long"} <= set(shapes), entity
        if entity != "date":
            assert shapes["two"] > 0.1 * len(mine), entity
        assert min(styles[s] for s in ("lower", "no_punct", "typos")) > 0.1 * len(mine), (entity, styles)


def test_emails_come_from_dozens_of_domains_and_names_lose_their_diacritics(messages):
    emails = [e for m in messages if m.entity == "email" for e in m.expected]
    domains = {e.split("@")[1] for e in emails}
    assert len(domains) > 100
    assert not any(d.startswith("example.") or ".example." in d for d in domains)
    assert all(e.isascii() for e in emails)
    assert any("mueller" in e for e in emails) and any("muller" in e for e in emails)
    assert ee.transliterated("Łęcka", germanic=False) == "lecka"
    assert ee.transliterated("Løvås", germanic=True) == "loevaas"


def test_phone_numbers_come_from_many_countries(messages):
    phones = [m for m in messages if m.entity == "phone"]
    assert len({m.country for m in phones}) >= 25


def test_typos_are_keyboard_neighbours_and_stay_out_of_values(messages):
    typed = [m for m in messages if "typos" in m.style]
    assert typed
    for m in typed:
        for written, (start, end) in zip(m.written, m.spans):
            assert m.text[start:end] == written
    word = "delivery"
    import random

    slips = {ee.with_typo(word, random.Random(i)) for i in range(200)}
    assert word not in slips
    assert all(abs(len(slip) - len(word)) <= 1 for slip in slips)


def test_no_generated_message_is_a_training_or_held_out_example(messages):
    training = ee.training_texts()
    assert len(training) > 500  # the loader found data/nlu, tests/nlu and the test stories
    copied = sorted({m.text for m in messages if ee.message_key(m.text) in training})
    assert not copied, f"generated messages equal to training examples (never copy them there): {copied[:10]}"


def test_the_normalisers_judge_extractions_as_the_actions_would():
    phone = next(m for m in ee.generate("phone", "national", 50) if m.country == "DE")
    assert ee.e164("0151 23456789", ee.countries()["DE"]) == "+4915123456789"
    assert ee.e164("+49 (0)151 23456789", ee.countries()["DE"]) == "+4915123456789"
    assert ee.e164("0049 151 23456789", ee.countries()["DE"]) == "+4915123456789"
    assert ee.e164("(415) 555-0132", ee.countries()["US"]) == "+14155550132"
    assert ee.e164("06 30 123 4567", ee.countries()["HU"]) == "+36301234567"
    outcome = ee.judge(phone, [{"entity": "phone", "value": phone.written[0], "start": 0, "end": 1}])
    assert outcome.ok

    order = ee.generate("order_id", "space_grouped", 1)[0]
    (start, end), = order.spans
    halves = order.written[0].split(" ")
    split = [{"entity": "order_id", "value": part, "start": start, "end": start + len(part)} for part in halves]
    assert ee.judge(order, split).failure == "partial"
    as_phone = [{"entity": "phone", "value": order.written[0], "start": start, "end": end}]
    assert ee.judge(order, as_phone).failure == "other_entity"
    whole = [{"entity": "order_id", "value": order.written[0], "start": start, "end": end}]
    assert ee.judge(order, whole).ok  # normalized_order_number reads "1 793 104" as people group it
    with_words = [{"entity": "order_id", "value": order.written[0] + " thanks", "start": start, "end": end}]
    assert ee.judge(order, with_words).failure == "not_normalised"  # but takes no words around it
    assert ee.judge(order, []).failure == "missed"

    email = ee.generate("email", "surrounding_punctuation", 1)[0]
    found = [{"entity": "email", "value": email.written[0].upper() + ".", "start": 0, "end": 1}]
    assert ee.judge(email, found).ok  # as normalized_email: case and a trailing full stop do not matter
