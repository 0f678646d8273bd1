"""What the knowledge base holds once loaded and validated, and what an answer looks like."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

TOPICS = ("shipping", "payment", "returns", "warranty")


@dataclass(frozen=True)
class Answer:
    """A grounded answer: text taken or computed from the knowledge base, and the page it comes from."""

    text: str
    source_url: str
    title: str
    topic: str
    entry_id: str
    confidence: float  # 0..1: the share of the question the entry accounts for (by its words)


@dataclass(frozen=True)
class Entry:
    """One question the shop answers. `answer_from` names a computed answer (see knowledge.computed);
    `answer` is fixed text, already filled in with the file's facts. With both, the text follows."""

    id: str
    topic: str
    title: str
    source_url: str
    questions: tuple[str, ...]
    keywords: tuple[str, ...] = ()
    answer: str | None = None
    answer_from: str | None = None
    file: str = ""


@dataclass(frozen=True)
class ShippingOption:
    service: str  # "Standard", "Express"
    carriers: tuple[str, ...]
    price: Decimal
    business_days: tuple[int, int]  # (fastest, slowest)
    free_from: Decimal | None = None  # order value from which this option is free


@dataclass(frozen=True)
class Zone:
    """Countries that share prices and delivery times. The first option is the default ("standard")."""

    id: str
    name: str  # said after "to": "the UK"; by default the zone's countries
    countries: tuple[str, ...]  # ISO 3166 codes
    source_url: str
    options: tuple[ShippingOption, ...]
    note: str | None = None  # a sentence added to every answer about this zone (e.g. customs)

    @property
    def default_option(self) -> ShippingOption:
        return self.options[0]


@dataclass(frozen=True)
class PaymentMethod:
    id: str
    name: str  # said after "pay with": "a credit or debit card (Visa, Mastercard or American Express)"
    accepted: bool
    aliases: tuple[str, ...]  # how customers name it: "paypal", "pay pal"
    source_url: str
    charged: str | None = None  # a sentence: when the money is taken
    note: str | None = None


@dataclass
class KnowledgeBase:
    path: Path
    entries: tuple[Entry, ...]
    zones: tuple[Zone, ...] = ()
    shipping_currency: str = "EUR"
    payment_methods: tuple[PaymentMethod, ...] = ()
    warnings: list[str] = field(default_factory=list)
    # The search indexes, built on first use by knowledge.retrieval and kept with the version they index:
    # the lexical one (knowledge.search.SearchIndex), and a dense one (knowledge.dense.DenseIndex) per embedder.
    search_index: Any = field(default=None, repr=False, compare=False)
    dense_indexes: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def zone_for(self, country_code: str) -> Zone | None:
        return next((zone for zone in self.zones if country_code in zone.countries), None)

    @property
    def shipped_countries(self) -> list[str]:
        return [code for zone in self.zones for code in zone.countries]

    @property
    def accepted_payment_methods(self) -> list[PaymentMethod]:
        return [method for method in self.payment_methods if method.accepted]

    @property
    def source_urls(self) -> set[str]:
        """Every page address the knowledge base can cite."""
        return ({entry.source_url for entry in self.entries} | {zone.source_url for zone in self.zones}
                | {method.source_url for method in self.payment_methods})
