"""Reading the knowledge base's YAML files and checking them, with errors a shop owner can act on.

Every problem names the file, the line and the entry, and all of them are
reported at once, so one `python -m knowledge check` run shows everything to fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from difflib import get_close_matches
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml

from knowledge.computed import COMPUTED
from knowledge.countries import country_by_code
from knowledge.model import TOPICS, Entry, KnowledgeBase, PaymentMethod, ShippingOption, Zone
from knowledge.text import said_list, words

LINE = "__line__"  # added to every mapping by _LineLoader, so messages can point at a line
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
MAX_SENTENCES = 3  # answers are read in a chat bubble

FILE_FIELDS = {"topic", "title", "page_url", "facts", "entries"}
TOPIC_FIELDS = {"shipping": {"currency", "zones"}, "payment": {"methods"}}
ENTRY_FIELDS = {"id", "title", "source_url", "questions", "keywords", "answer", "answer_from"}
ZONE_FIELDS = {"id", "name", "countries", "source_url", "options", "note"}
OPTION_FIELDS = {"service", "carriers", "price", "business_days", "free_from"}
METHOD_FIELDS = {"id", "name", "accepted", "aliases", "source_url", "charged", "note"}
TABLE_OF = {"zones": "shipping zones (`zones:` in the shipping file)",
            "methods": "payment methods (`methods:` in the payment file)"}


class KnowledgeBaseError(Exception):
    """The knowledge base can't be used as it is. `problems` lists every reason, one line each."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("The knowledge base has problems:\n" + "\n".join(f"  - {p}" for p in problems))


class _LineLoader(yaml.SafeLoader):
    """Safe YAML that remembers line numbers and reads only true/false as booleans.

    Plain YAML 1.1 reads NO (Norway), yes, on and off as booleans; a shop owner listing
    countries must not have to know that.
    """


_LineLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_LineLoader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                                  list("tTfF"))


def _mapping_with_line(loader: _LineLoader, node: yaml.MappingNode) -> dict:
    mapping = loader.construct_mapping(node, deep=True)
    mapping[LINE] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_with_line)


@dataclass
class _Report:
    """Problems and warnings collected while reading, each prefixed with where it is."""

    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def problem(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")

    def warning(self, where: str, message: str) -> None:
        self.warnings.append(f"{where}: {message}")


@dataclass
class _Collected:
    entries: list[Entry] = field(default_factory=list)
    zones: list[Zone] = field(default_factory=list)
    methods: list[PaymentMethod] = field(default_factory=list)
    currency: str = "EUR"
    tables: set[str] = field(default_factory=set)


def knowledge_files(path: Path) -> list[Path]:
    return sorted(p for p in path.iterdir() if p.suffix in (".yml", ".yaml") and p.is_file())


def load(path: str | Path) -> KnowledgeBase:
    """Read and validate every .yml file in the folder; raise KnowledgeBaseError listing all problems."""
    folder = Path(path)
    if not folder.is_dir():
        raise KnowledgeBaseError([f"{folder}: not a folder"])
    files = knowledge_files(folder)
    if not files:
        raise KnowledgeBaseError([f"{folder}: no .yml files in it"])
    report, collected = _Report(), _Collected()
    for file in files:
        _read_file(file, report, collected)
    _check_across_files(collected, report)
    if report.problems:
        raise KnowledgeBaseError(report.problems)
    return KnowledgeBase(path=folder, entries=tuple(collected.entries), zones=tuple(collected.zones),
                         shipping_currency=collected.currency, payment_methods=tuple(collected.methods),
                         warnings=report.warnings)


def _read_file(file: Path, report: _Report, collected: _Collected) -> None:
    try:
        data = yaml.load(file.read_text(encoding="utf-8"), Loader=_LineLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{file.name} line {mark.line + 1}" if mark else file.name
        report.problem(where, f"not valid YAML ({getattr(error, 'problem', None) or error})")
        return
    if not isinstance(data, dict):
        report.problem(file.name, "must be a mapping with `topic`, `title`, `page_url` and `entries`")
        return
    topic = data.get("topic")
    if topic not in TOPICS:
        report.problem(file.name, f"`topic` must be one of {', '.join(TOPICS)}, not {topic!r}")
        return
    _check_fields(data, FILE_FIELDS | TOPIC_FIELDS.get(topic, set()), {"topic", "title", "page_url", "entries"},
                  file.name, report)
    _check_url(data.get("page_url"), "page_url", file.name, report)
    facts = _read_facts(data.get("facts"), file.name, report)
    if topic == "shipping":
        _read_shipping_tables(data, file.name, report, collected)
    if topic == "payment" and "methods" in data:
        collected.tables.add("methods")
        collected.methods += _read_list(data["methods"], "methods", file.name, report, _read_method)
    entries = _read_list(data.get("entries"), "entries", file.name, report,
                         lambda item, where, rep: _read_entry(item, where, rep, topic, file.name, facts))
    _warn_about_links_off_the_page(entries, data.get("page_url"), report)
    collected.entries += entries


def _warn_about_links_off_the_page(entries: list[Entry], page_url: Any, report: _Report) -> None:
    # A returns entry citing the shipping page is usually a copy-paste slip, but may be meant.
    if not isinstance(page_url, str):
        return
    for entry in entries:
        if not entry.source_url.startswith(page_url):
            report.warning(f"{entry.file}, entry '{entry.id}'",
                           f"`source_url` {entry.source_url} is not on this file's page {page_url}")


def _read_shipping_tables(data: dict, file_name: str, report: _Report, collected: _Collected) -> None:
    currency = data.get("currency", "EUR")
    if not (isinstance(currency, str) and re.fullmatch(r"[A-Z]{3}", currency)):
        report.problem(file_name, f"`currency` must be a 3-letter code like EUR, not {currency!r}")
    else:
        collected.currency = currency
    if "zones" in data:
        collected.tables.add("zones")
        collected.zones += _read_list(data["zones"], "zones", file_name, report, _read_zone)


SINGULAR = {"entries": "entry", "zones": "zone", "options": "option", "methods": "payment method"}


def _read_list(items: Any, name: str, context: str, report: _Report, read_one) -> list:
    """Read each item with `read_one(item, where, report)`; `where` reads "shipping.yml, zone 'germany' (line 12)"."""
    if not isinstance(items, list) or not items:
        report.problem(context, f"`{name}` must be a non-empty list")
        return []
    read = []
    for position, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            report.problem(f"{context}, {SINGULAR[name]} #{position}", "must be a mapping of fields")
            continue
        label = f"'{item['id']}'" if isinstance(item.get("id"), str) else f"#{position}"
        value = read_one(item, f"{context}, {SINGULAR[name]} {label} (line {item[LINE]})", report)
        if value is not None:
            read.append(value)
    return read


def _read_entry(item: dict, where: str, report: _Report, topic: str, file_name: str, facts: dict) -> Entry | None:
    before = len(report.problems)
    _check_fields(item, ENTRY_FIELDS, {"id", "title", "source_url", "questions"}, where, report)
    _check_slug(item.get("id"), where, report)
    _check_text(item.get("title"), "title", where, report)
    _check_url(item.get("source_url"), "source_url", where, report)
    questions = _string_list(item.get("questions"), "questions", where, report, required=True)
    keywords = _string_list(item.get("keywords", []), "keywords", where, report, required=False)
    answer = _read_answer_text(item.get("answer"), facts, where, report)
    answer_from = item.get("answer_from")
    if answer_from is not None and answer_from not in COMPUTED:
        report.problem(where, f"unknown `answer_from: {answer_from}`; known: {', '.join(sorted(COMPUTED))}")
    if item.get("answer") is None and answer_from is None:
        report.problem(where, "needs `answer` (text) or `answer_from` (a computed answer), or both")
    if len(report.problems) > before:
        return None
    return Entry(id=item["id"], topic=topic, title=item["title"].strip(), source_url=item["source_url"],
                 questions=tuple(questions), keywords=tuple(keywords), answer=answer,
                 answer_from=answer_from, file=file_name)


def _read_answer_text(text: Any, facts: dict, where: str, report: _Report) -> str | None:
    if text is None:
        return None
    if not _check_text(text, "answer", where, report):
        return None
    missing = [name for name in PLACEHOLDER.findall(text) if name not in facts]
    if missing:
        known = ", ".join(sorted(facts)) or "none"
        report.problem(where, f"`answer` uses {', '.join('{' + m + '}' for m in missing)}, "
                              f"which is not in this file's `facts` (known: {known})")
        return None
    filled = PLACEHOLDER.sub(lambda m: str(facts[m.group(1)]), text.strip())
    if len(sentences(filled)) > MAX_SENTENCES:
        report.warning(where, f"`answer` has {len(sentences(filled))} sentences; "
                              f"chat answers read best with {MAX_SENTENCES} or fewer")
    return filled


def _read_facts(facts: Any, file_name: str, report: _Report) -> dict:
    if facts is None:
        return {}
    if not isinstance(facts, dict):
        report.problem(file_name, "`facts` must be a mapping of name: value")
        return {}
    clean = {name: value for name, value in facts.items() if name != LINE}
    for name, value in clean.items():
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            report.problem(f"{file_name} line {facts[LINE]}, facts",
                           f"`{name}` must be a single value (text or number)")
    return clean


def _read_zone(item: dict, where: str, report: _Report) -> Zone | None:
    before = len(report.problems)
    _check_fields(item, ZONE_FIELDS, {"id", "countries", "source_url", "options"}, where, report)
    _check_slug(item.get("id"), where, report)
    if item.get("name") is not None:
        _check_text(item["name"], "name", where, report)
    _check_url(item.get("source_url"), "source_url", where, report)
    countries = _string_list(item.get("countries"), "countries", where, report, required=True)
    for code in countries:
        if code != code.upper() or country_by_code(code) is None:
            report.problem(where, f"unknown country code {code!r}; use ISO 3166 codes like DE, AT, GB")
    if item.get("note") is not None:
        _check_text(item["note"], "note", where, report)
    options = _read_list(item.get("options"), "options", where, report, _read_option)
    if len(report.problems) > before:
        return None
    # Without a name, answers say the countries: "to Austria, Belgium, France, Italy, the Netherlands and Spain".
    name = item["name"].strip() if item.get("name") else said_list([country_by_code(c).name for c in countries])
    return Zone(id=item["id"], name=name, countries=tuple(countries),
                source_url=item["source_url"], options=tuple(options), note=item.get("note"))


def _read_option(item: dict, where: str, report: _Report) -> ShippingOption | None:
    before = len(report.problems)
    _check_fields(item, OPTION_FIELDS, {"service", "carriers", "price", "business_days"}, where, report)
    _check_text(item.get("service"), "service", where, report)
    carriers = _string_list(item.get("carriers"), "carriers", where, report, required=True)
    price = _money(item.get("price"), "price", where, report)
    free_from = _money(item["free_from"], "free_from", where, report) if item.get("free_from") is not None else None
    days = _business_days(item.get("business_days"), where, report)
    if len(report.problems) > before:
        return None
    return ShippingOption(service=item["service"].strip(), carriers=tuple(carriers), price=price,
                          business_days=days, free_from=free_from)


def _read_method(item: dict, where: str, report: _Report) -> PaymentMethod | None:
    before = len(report.problems)
    _check_fields(item, METHOD_FIELDS, {"id", "name", "accepted", "aliases", "source_url"}, where, report)
    _check_slug(item.get("id"), where, report)
    _check_text(item.get("name"), "name", where, report)
    _check_url(item.get("source_url"), "source_url", where, report)
    aliases = _string_list(item.get("aliases"), "aliases", where, report, required=True)
    if not isinstance(item.get("accepted"), bool):
        report.problem(where, "`accepted` must be true or false")
    for optional in ("charged", "note"):
        if item.get(optional) is not None:
            _check_text(item[optional], optional, where, report)
    if len(report.problems) > before:
        return None
    return PaymentMethod(id=item["id"], name=item["name"].strip(), accepted=item["accepted"],
                         aliases=tuple(aliases), source_url=item["source_url"],
                         charged=item.get("charged"), note=item.get("note"))


def _check_across_files(collected: _Collected, report: _Report) -> None:
    """What no single file can check: unique ids, a country in one zone only, tables that computed answers need."""
    _check_unique([(e.file, e.id) for e in collected.entries], "entry id", report)
    _check_unique([("zones", z.id) for z in collected.zones], "zone id", report)
    _check_unique([("methods", m.id) for m in collected.methods], "payment method id", report)
    zone_of: dict[str, str] = {}
    for zone in collected.zones:
        for code in zone.countries:
            if code in zone_of:
                report.problem(f"zone '{zone.id}'", f"country {code} is already in zone '{zone_of[code]}'")
            zone_of.setdefault(code, zone.id)
    method_of: dict[tuple[str, ...], str] = {}
    for method in collected.methods:
        for alias in method.aliases:
            key = tuple(words(alias))
            if key in method_of and method_of[key] != method.id:
                report.problem(f"payment method '{method.id}'",
                               f"alias {alias!r} is also an alias of '{method_of[key]}'")
            method_of.setdefault(key, method.id)
    for entry in collected.entries:
        needs = COMPUTED[entry.answer_from].needs_table if entry.answer_from else None
        if needs and needs not in collected.tables:
            report.problem(f"{entry.file}, entry '{entry.id}'",
                           f"`answer_from: {entry.answer_from}` needs the {TABLE_OF[needs]}, which are missing")


def _check_unique(keys: list[tuple[str, str]], what: str, report: _Report) -> None:
    seen: dict[str, str] = {}
    for where, key in keys:
        if key in seen:
            report.problem(where, f"{what} '{key}' is used twice (also in {seen[key]})")
        seen.setdefault(key, where)


def _check_fields(item: dict, allowed: set[str], required: set[str], where: str, report: _Report) -> None:
    for name in sorted(required - item.keys()):
        report.problem(where, f"missing field `{name}`")
    for name in sorted(set(item) - allowed - {LINE}):
        guess = get_close_matches(str(name), sorted(allowed), n=1)
        hint = f" (did you mean `{guess[0]}`?)" if guess else f" (allowed: {', '.join(sorted(allowed))})"
        report.problem(where, f"unknown field `{name}`{hint}")


def _check_url(value: Any, name: str, where: str, report: _Report) -> None:
    if value is None:
        return  # reported as a missing field
    parts = urlparse(value) if isinstance(value, str) else None
    if not (parts and parts.scheme == "https" and "." in parts.netloc and not re.search(r"\s", value)):
        report.problem(where, f"bad `{name}` {value!r}: must be a full https:// address, "
                              f"like https://shop.example/policies/shipping#germany")


def _check_slug(value: Any, where: str, report: _Report) -> None:
    if value is not None and not (isinstance(value, str) and SLUG.match(value)):
        report.problem(where, f"`id` {value!r} must be lowercase letters, digits and dashes, like free-shipping")


def _check_text(value: Any, name: str, where: str, report: _Report) -> bool:
    if value is None:
        return False  # reported as a missing field where it is required
    if not isinstance(value, str) or not value.strip():
        report.problem(where, f"`{name}` must be non-empty text")
        return False
    return True


def _string_list(value: Any, name: str, where: str, report: _Report, required: bool) -> list[str]:
    if value is None:
        return []  # a required one is reported as a missing field
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        report.problem(where, f"`{name}` must be a list of non-empty texts")
        return []
    if required and not value:
        report.problem(where, f"`{name}` must not be empty")
    return [v.strip() for v in value]


def _money(value: Any, name: str, where: str, report: _Report) -> Decimal:
    try:
        amount = Decimal(str(value))
        if amount.is_finite() and amount >= 0 and not isinstance(value, bool):
            return amount.quantize(Decimal("0.01"))
    except InvalidOperation:
        pass
    if value is not None:
        report.problem(where, f"`{name}` must be an amount like \"4.90\", not {value!r}")
    return Decimal("0")


def _business_days(value: Any, where: str, report: _Report) -> tuple[int, int]:
    days = [value] if isinstance(value, int) and not isinstance(value, bool) else value
    if (isinstance(days, list) and len(days) in (1, 2) and all(isinstance(d, int) and not isinstance(d, bool)
                                                                 for d in days) and 0 < days[0] <= days[-1]):
        return days[0], days[-1]
    if value is not None:
        report.problem(where, f"`business_days` must be a number or [fastest, slowest] like [2, 4], not {value!r}")
    return 0, 0


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]
