"""Answers written from the knowledge base's tables (shipping zones, payment methods).

Prices, delivery times and country lists exist once, in the tables; these
functions phrase them for chat, so an answer can never disagree with the table.
An entry in the YAML picks one with `answer_from: <name>`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Callable

from knowledge.countries import COUNTRIES, EU_MEMBERS, Country
from knowledge.model import Entry, KnowledgeBase, PaymentMethod, ShippingOption, Zone
from knowledge.text import said_list

CURRENCY_SYMBOLS = {"EUR": "€", "GBP": "£", "USD": "$"}


@dataclass(frozen=True)
class Slots:
    """What the question names, found in its text or in the NLU's entities."""

    country: Country | None = None
    payment_method: PaymentMethod | None = None


@dataclass(frozen=True)
class Rendered:
    text: str
    source_url: str
    title: str


@dataclass(frozen=True)
class Computed:
    render: Callable[[KnowledgeBase, Entry, Slots], Rendered]
    needs_table: str  # "zones" or "methods": checked when the knowledge base loads
    needs_slot: str | None = None  # the entry can only answer when the question names one


# ---------------------------------------------------------------- shipping

def shipping_to_country(kb: KnowledgeBase, entry: Entry, slots: Slots) -> Rendered:
    country = slots.country
    zone = kb.zone_for(country.code)
    if zone is None:
        # The zones list every country we ship to, so one in no zone is a grounded "no" (closed world).
        text = f"No, we don't deliver to {country.name}. We deliver to: {countries_summary(kb)}."
        return Rendered(text, entry.source_url, f"Shipping to {country.short_name}")
    default, *others = zone.options
    sentences = [_default_option_sentence(default, country.name, kb.shipping_currency)]
    sentences += [f"{o.service} shipping with {_or(o.carriers)} costs {money(o.price, kb.shipping_currency)} "
                  f"({business_days(o.business_days)})." for o in others]
    if zone.note:
        sentences.append(zone.note.strip())
    return Rendered(" ".join(sentences), zone.source_url, f"Shipping to {country.short_name}")


def _default_option_sentence(option: ShippingOption, place: str, currency: str) -> str:
    sentence = (f"{option.service} shipping to {place} costs {money(option.price, currency)} with "
                f"{_or(option.carriers)} and takes {business_days(option.business_days)}")
    if option.free_from is not None:
        sentence += f"; it's free on orders from {money(option.free_from, currency)}"
    return sentence + "."


def shipping_countries(kb: KnowledgeBase, entry: Entry, slots: Slots) -> Rendered:
    return Rendered(f"We ship to {countries_summary(kb)}.", entry.source_url, entry.title)


def shipping_costs(kb: KnowledgeBase, entry: Entry, slots: Slots) -> Rendered:
    prices = [f"{money(z.default_option.price, kb.shipping_currency)} to {z.name}" for z in kb.zones]
    text = f"{kb.zones[0].default_option.service} shipping costs {_and(prices)}."
    return Rendered(text, entry.source_url, entry.title)


def delivery_times(kb: KnowledgeBase, entry: Entry, slots: Slots) -> Rendered:
    times = [f"{business_days(z.default_option.business_days)} to {z.name}" for z in kb.zones]
    text = f"{kb.zones[0].default_option.service} delivery takes {_and(times)}."
    return Rendered(text, entry.source_url, entry.title)


def free_shipping(kb: KnowledgeBase, entry: Entry, slots: Slots) -> Rendered:
    free = [z for z in kb.zones if z.default_option.free_from is not None]
    not_free = [z for z in kb.zones if z.default_option.free_from is None]
    if not free:
        return Rendered("We don't offer free shipping at the moment.", entry.source_url, entry.title)
    thresholds = [f"{money(z.default_option.free_from, kb.shipping_currency)} to {z.name}" for z in free]
    sentences = [f"{free[0].default_option.service} shipping is free on orders from {_and(thresholds)}."]
    if not_free:
        sentences.append(f"There's no free shipping to {_and([z.name for z in not_free])}.")
    return Rendered(" ".join(sentences), entry.source_url, entry.title)


def express_shipping(kb: KnowledgeBase, entry: Entry, slots: Slots) -> Rendered:
    """Every option after a zone's first one, grouped by service ("Express")."""
    by_service: dict[str, list[tuple[Zone, ShippingOption]]] = {}
    for zone in kb.zones:
        for option in zone.options[1:]:
            by_service.setdefault(option.service, []).append((zone, option))
    if not by_service:
        only = kb.zones[0].default_option.service.lower()
        return Rendered(f"We only offer {only} shipping at the moment.", entry.source_url, entry.title)
    sentences = []
    for service, offers in by_service.items():
        carriers = _unique(c for _, option in offers for c in option.carriers)
        prices = [f"{money(o.price, kb.shipping_currency)} to {z.name} ({business_days(o.business_days)})"
                  for z, o in offers]
        sentences.append(f"{service} shipping with {_or(carriers)} costs {_and(prices)}.")
    return Rendered(" ".join(sentences), entry.source_url, entry.title)


def shipping_carriers(kb: KnowledgeBase, entry: Entry, slots: Slots) -> Rendered:
    carriers = _unique(c for zone in kb.zones for option in zone.options for c in option.carriers)
    text = f"We ship with {_and(carriers)}"
    text += "; which one depends on the destination and the shipping option." if len(carriers) > 1 else "."
    return Rendered(text, entry.source_url, entry.title)


def countries_summary(kb: KnowledgeBase) -> str:
    """"all EU countries, the United Kingdom, Switzerland and Norway": a list short enough for chat."""
    codes = kb.shipped_countries
    if EU_MEMBERS <= set(codes):
        return _and(["all EU countries"] + [COUNTRIES[c].name for c in codes if c not in EU_MEMBERS])
    return _and([COUNTRIES[c].name for c in codes])


# ---------------------------------------------------------------- payment

def payment_method(kb: KnowledgeBase, entry: Entry, slots: Slots) -> Rendered:
    method = slots.payment_method
    if method.accepted:
        sentences = [f"Yes, you can pay with {method.name}.", method.charged]
    else:
        # The accepted methods are complete, so a known method outside them is a grounded "no".
        accepted = _or([m.name for m in kb.accepted_payment_methods])
        sentences = [f"No, we don't take {method.name}.", f"You can pay with: {accepted}."]
    sentences.append(method.note)
    return Rendered(" ".join(s.strip() for s in sentences if s), method.source_url, entry.title)


def payment_methods(kb: KnowledgeBase, entry: Entry, slots: Slots) -> Rendered:
    accepted = _or([m.name for m in kb.accepted_payment_methods])
    return Rendered(f"You can pay with {accepted}.", entry.source_url, entry.title)


COMPUTED: dict[str, Computed] = {
    "shipping_to_country": Computed(shipping_to_country, "zones", needs_slot="country"),
    "shipping_countries": Computed(shipping_countries, "zones"),
    "shipping_costs": Computed(shipping_costs, "zones"),
    "delivery_times": Computed(delivery_times, "zones"),
    "free_shipping": Computed(free_shipping, "zones"),
    "express_shipping": Computed(express_shipping, "zones"),
    "shipping_carriers": Computed(shipping_carriers, "zones"),
    "payment_method": Computed(payment_method, "methods", needs_slot="payment_method"),
    "payment_methods": Computed(payment_methods, "methods"),
}


# ---------------------------------------------------------------- phrasing

def money(amount: Decimal, currency: str) -> str:
    number = f"{amount:.0f}" if amount == amount.to_integral_value() else f"{amount:.2f}"
    symbol = CURRENCY_SYMBOLS.get(currency)
    return f"{symbol}{number}" if symbol else f"{number} {currency}"


def business_days(days: tuple[int, int]) -> str:
    fastest, slowest = days
    if fastest == slowest:
        return f"{fastest} business day" + ("" if fastest == 1 else "s")
    return f"{fastest}–{slowest} business days"


def _and(items: list[str]) -> str:
    return said_list(items, "and")


def _or(items) -> str:
    return said_list(list(items), "or")


def _unique(items) -> list[str]:
    return list(dict.fromkeys(items))
