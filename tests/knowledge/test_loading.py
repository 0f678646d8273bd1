"""Loading and validating the knowledge base: every problem names the file, the entry and what to fix."""

from __future__ import annotations

import re

import pytest

from knowledge import TOPICS, KnowledgeBaseError, load


def problems_of(copy) -> list[str]:
    with pytest.raises(KnowledgeBaseError) as raised:
        copy.load()
    return raised.value.problems


def only_problem(copy) -> str:
    problems = problems_of(copy)
    assert len(problems) == 1, problems
    return problems[0]


# ---------------------------------------------------------------- the shipped knowledge base

def test_the_shipped_knowledge_base_is_valid_and_has_no_warnings(kb):
    assert kb.warnings == []
    assert {entry.topic for entry in kb.entries} == set(TOPICS)


def test_every_entry_zone_and_method_cites_a_policy_page_of_the_shop(kb):
    for url in kb.source_urls:
        assert re.fullmatch(r"https://shop\.example/policies/(shipping|payment|returns|warranty)#[a-z-]+", url), url


def test_facts_fill_in_the_answers(kb):
    window = next(e for e in kb.entries if e.id == "return-window")
    assert "within 30 days of delivery" in window.answer
    assert "{" not in " ".join(e.answer or "" for e in kb.entries)


def test_changing_a_fact_changes_every_answer_that_uses_it(kb_copy):
    kb_copy.replace("returns.yml", "return_window_days: 30", "return_window_days: 60")
    window = next(e for e in kb_copy.load().entries if e.id == "return-window")
    assert "within 60 days of delivery" in window.answer


def test_no_in_a_country_list_is_norway_not_false(kb_copy):
    kb_copy.replace("shipping.yml", "countries: [GB]", "countries: [GB, NO]")
    assert kb_copy.load().zone_for("NO").id == "uk"


def test_a_zone_without_a_name_is_named_by_its_countries(kb):
    assert kb.zone_for("AT").name == "Austria, Belgium, France, Italy, the Netherlands and Spain"
    assert kb.zone_for("GB").name == "the UK"


# ---------------------------------------------------------------- problems a shop owner can fix

def test_a_missing_field_names_the_file_the_entry_and_the_field(kb_copy):
    kb_copy.replace("returns.yml", "    source_url: https://shop.example/policies/returns#refunds\n", "")
    problem = only_problem(kb_copy)
    assert problem.startswith("returns.yml, entry 'refunds' (line ")
    assert "missing field `source_url`" in problem


def test_a_bad_url_is_quoted_with_an_example_of_a_good_one(kb_copy):
    kb_copy.replace("returns.yml", "https://shop.example/policies/returns#refunds", "htps//shop.example/returns")
    problem = only_problem(kb_copy)
    assert "entry 'refunds'" in problem
    assert "bad `source_url` 'htps//shop.example/returns'" in problem
    assert "https://" in problem


def test_a_url_without_https_is_refused(kb_copy):
    kb_copy.replace("warranty.yml", "https://shop.example/policies/warranty#claim", "http://shop.example/warranty")
    assert "bad `source_url`" in only_problem(kb_copy)


def test_a_misspelt_field_gets_a_suggestion(kb_copy):
    kb_copy.replace("returns.yml", "    source_url: https://shop.example/policies/returns#refunds",
                    "    sorce_url: https://shop.example/policies/returns#refunds")
    problems = problems_of(kb_copy)
    assert any("unknown field `sorce_url` (did you mean `source_url`?)" in p for p in problems)
    assert any("missing field `source_url`" in p for p in problems)


def test_an_unknown_country_code_in_a_zone(kb_copy):
    kb_copy.replace("shipping.yml", "countries: [DE]", "countries: [DE, XX]")
    problem = only_problem(kb_copy)
    assert "zone 'germany'" in problem and "unknown country code 'XX'" in problem


def test_a_country_in_two_zones(kb_copy):
    kb_copy.replace("shipping.yml", "countries: [DE]", "countries: [DE, AT]")
    assert "country AT is already in zone 'germany'" in only_problem(kb_copy)


def test_a_bad_price_and_bad_delivery_days_name_their_zone(kb_copy):
    kb_copy.replace("shipping.yml", 'price: "4.90", business_days: [1, 2]', 'price: "4,90", business_days: [3, 1]')
    problems = problems_of(kb_copy)
    assert len(problems) == 2, problems
    assert all("zone 'germany'" in p and "option #1" in p for p in problems)
    assert any("`price` must be an amount" in p for p in problems)
    assert any("`business_days` must be" in p for p in problems)


def test_the_same_entry_id_twice(kb_copy):
    kb_copy.replace("warranty.yml", "id: warranty-claim", "id: refunds")
    assert "entry id 'refunds' is used twice" in only_problem(kb_copy)


def test_an_answer_using_a_fact_that_does_not_exist(kb_copy):
    kb_copy.replace("returns.yml", "within {refund_within_days} days", "within {refund_days} days")
    problem = only_problem(kb_copy)
    assert "entry 'refunds'" in problem and "{refund_days}" in problem and "refund_within_days" in problem


def test_an_unknown_computed_answer(kb_copy):
    kb_copy.replace("shipping.yml", "answer_from: free_shipping", "answer_from: free_shiping")
    problem = only_problem(kb_copy)
    assert "entry 'free-shipping'" in problem and "unknown `answer_from: free_shiping`" in problem


def test_an_entry_without_any_answer(kb_copy):
    kb_copy.replace("shipping.yml", "    answer_from: free_shipping\n", "")
    assert "needs `answer` (text) or `answer_from`" in only_problem(kb_copy)


def test_computed_answers_need_their_table(kb_copy):
    text = (kb_copy.folder / "payments.yml").read_text()
    kb_copy.write("payments.yml", text[:text.index("methods:")] + text[text.index("entries:"):])
    problems = problems_of(kb_copy)
    assert any("entry 'payment-method'" in p and "needs the payment methods" in p for p in problems)


def test_yes_is_not_a_boolean_for_accepted(kb_copy):
    kb_copy.replace("payments.yml", "    accepted: true\n    aliases: [paypal",
                    "    accepted: yes\n    aliases: [paypal")
    problem = only_problem(kb_copy)
    assert "payment method 'paypal'" in problem and "`accepted` must be true or false" in problem


def test_broken_yaml_names_the_file_and_line(kb_copy):
    kb_copy.replace("warranty.yml", "  guarantee_years: 2", "  guarantee_years: [2")
    problem = only_problem(kb_copy)
    assert re.match(r"warranty\.yml line \d+: not valid YAML", problem)


def test_an_unknown_topic(kb_copy):
    kb_copy.replace("warranty.yml", "topic: warranty", "topic: guarantees")
    assert "`topic` must be one of shipping, payment, returns, warranty" in only_problem(kb_copy)


def test_all_problems_are_reported_at_once(kb_copy):
    kb_copy.replace("returns.yml", "https://shop.example/policies/returns#refunds", "not a url")
    kb_copy.replace("shipping.yml", "countries: [DE]", "countries: [XX]")
    problems = problems_of(kb_copy)
    assert len(problems) == 2
    assert any(p.startswith("returns.yml") for p in problems) and any(p.startswith("shipping.yml") for p in problems)


def test_a_long_answer_is_a_warning_not_an_error(kb_copy):
    kb_copy.replace("warranty.yml", "and we pay the shipping.", "and we pay the shipping. One. Two.")
    loaded = kb_copy.load()
    assert len(loaded.warnings) == 1
    assert "entry 'warranty-claim'" in loaded.warnings[0] and "4 sentences" in loaded.warnings[0]


def test_a_link_to_another_policy_page_is_a_warning(kb_copy):
    kb_copy.replace("warranty.yml", "https://shop.example/policies/warranty#claim",
                    "https://shop.example/policies/returns#claim")
    assert kb_copy.load().warnings == [
        "warranty.yml, entry 'warranty-claim': `source_url` https://shop.example/policies/returns#claim "
        "is not on this file's page https://shop.example/policies/warranty"]


def test_a_folder_without_knowledge(tmp_path):
    with pytest.raises(KnowledgeBaseError, match="no .yml files"):
        load(tmp_path)
    with pytest.raises(KnowledgeBaseError, match="not a folder"):
        load(tmp_path / "missing")
