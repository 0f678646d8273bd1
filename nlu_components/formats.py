"""Values with a known format, found in free text by rules that know the format.

Emails, phone numbers, order numbers, case numbers, coupon codes and delivery days are written in formats
that a few rules describe completely, while a model learns them from examples and memorises the examples'
values (benchmarks/understanding/entity_extraction_before.md). Each finder gives where a value stands and
its normalised form; `entities_in` decides between readings of the same characters, in one place. Bare
numbers are decided by the words around them: "call me on 0151 2345678", "order 100234", "ticket 77695",
"the code is 482913", "Hauptstr. 5, 10115 Berlin".

No Rasa here: the NLU component (`format_entities`) and the actions' forms use the same rules, so a value
the NLU understood is one the form accepts.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import date, timedelta
from difflib import get_close_matches
from functools import lru_cache
from typing import Callable, Collection, Iterator

import phonenumbers
from phonenumbers import Leniency, PhoneNumberFormat, PhoneNumberMatcher, PhoneNumberType

DEFAULT_PHONE_REGION = "DE"
# The entity types these rules find (the NLU's FormatEntityExtractor replaces DIET's entities of them).
FORMAT_ENTITIES = frozenset({"email", "order_id", "phone", "case_number", "coupon_code"})
ORDER_DIGITS = (4, 10)  # the shop's order numbers (the forms always accepted 4 to 10 digits)


@dataclass(frozen=True)
class Found:
    entity: str  # email, phone, case_number, coupon_code, order_id
    value: str   # normalised: lower-case email, E.164 phone, T-000123, upper-case code, digits
    start: int
    end: int


# ------------------------------------------------------------------------------------------- the context

LETTERS = r"[^\W\d_]"  # a letter of any alphabet
WORD = re.compile(rf"{LETTERS}+")

# Words that say what a nearby number is. "number", "no." and "#" say nothing: people number orders,
# phones and tickets alike.
CUES = {
    "phone": """phone phones telephone tel mobile mobil cell cellphone call called calling ring reach whatsapp
                text sms landline hotline fax line contact""",
    "order": """order orders ordered ordering ordernr orderno bestellung bestellnummer purchase purchased bought
                parcel parcels package packages shipment shipped ship deliver delivered delivery receipt invoice
                confirmation tracking track return returned refund cancel cancelled canceled arrived warehouse""",
    "case": "case cases ticket tickets complaint complaints reference ref claim",
    # A number after these is a one-time code, a postcode or a discount, never an order.
    "code": "code codes pin otp passcode verification postcode zip postal",
    "address": "address street str strasse straße road avenue lane live living move moved moving",
}
CUE_OF = {word: kind for kind, words in CUES.items() for word in words.split()}
# The words that may stand before an order number, also glued to it: "order100234", "ordernr.100234",
# "no. 100234", "nr 100234", "nº 100234".
ORDER_WORDS = r"ord(?:e?r)?s?(?:\s*(?:no|nr|num|number|id))?|no|nr|num|number|id|n[º°]"
ORDER_WORD = re.compile(ORDER_WORDS, re.IGNORECASE)
HASH_BEFORE = re.compile(r"(?:(?<!\w)#\s?)?$")  # "#100234", "# 100234": a reference number
# Labels that name a phone only right before it: "home 030 1234567, work 0151 2345678".
PHONE_LABELS = {"home", "work", "office", "private", "business", "mob"}
BEFORE, AFTER = 10, 6  # how many words around a number can say what it is
SENTENCE_END = re.compile(r"[.;!?](?:\s|$)")
CASE_REACH = 3         # "case number 77695", "ticket no. 77695": the case word stands right before
ADJACENT = 1           # "order 0151234567", "my order is 0151234567": this close, a cue outweighs looks


def forgiving(words: Collection[str]) -> Callable[[str], str | None]:
    """The word of `words` that a typed word is, or is one slip of the finger away from ("ofrder", "moblie").
    Slips are forgiven only in longer words and in "order" and "phone": one letter turns shorter ones into
    other words ("codes" - "comes", "cases" - "cares")."""
    typo_targets = [word for word in words if len(word) >= 6 or word in ("order", "phone")]

    @lru_cache(maxsize=4096)
    def known(typed: str) -> str | None:
        typed = typed.casefold()
        if typed in words or len(typed) < 5:
            return typed if typed in words else None
        close = get_close_matches(typed, typo_targets, n=1, cutoff=0.8)
        return close[0] if close else None

    return known


cue_word = forgiving(CUE_OF)


def cue_of(word: str) -> str | None:
    """What kind of number a word announces: phone, order, case, code or address."""
    known = cue_word(word)
    return CUE_OF[known] if known else None


@dataclass(frozen=True)
class Cue:
    kind: str
    distance: int  # words between the cue and the value


class Context:
    """The words of a text, to ask which cue stands nearest to a value.

    A value's words reach no further than the numbers beside it, and the word right before the next number
    names that number: in "call me on 0176 44332211 about order 991200", "order" is the second number's.
    Words after a value end with its sentence: "… 0176 44332211; code WINTER20 …".
    """

    def __init__(self, text: str):
        self.text = text
        self.words = [(m.start(), m.end(), m.group()) for m in WORD.finditer(text)]
        self.starts = [start for start, _, _ in self.words]
        self.ends = [end for _, end, _ in self.words]
        self.digits = [m.span() for m in re.finditer(r"\d+", text)]

    def nearest_cue(self, start: int, end: int) -> Cue | None:
        """The nearest cue word; at the same distance the word before wins."""
        previous_number = max((e for s, e in self.digits if e <= start), default=0)
        next_number = min((s for s, e in self.digits if s >= end), default=None)
        first_after = bisect_left(self.starts, end)
        last_before = bisect_right(self.ends, start) - 1
        first_before = max(bisect_left(self.starts, previous_number), last_before - BEFORE + 1)
        sentence_end = SENTENCE_END.search(self.text, end)
        last_after = min(len(self.words), first_after + AFTER,
                         bisect_right(self.ends, sentence_end.start()) if sentence_end else len(self.words))
        if next_number is not None:
            last_after = min(last_after, bisect_right(self.ends, next_number) - 1)
        before = [self.words[i][2] for i in range(last_before, first_before - 1, -1)]
        after = [self.words[i][2] for i in range(first_after, last_after)]
        for distance in range(max(len(before), len(after))):
            kind = self._before(before[distance], distance) if distance < len(before) else None
            if not kind and distance < len(after):
                kind = cue_of(after[distance])
                kind = None if kind == "case" else kind  # a case word names the number after it
            if kind:
                return Cue(kind, distance)
        return None

    def kind(self, start: int, end: int) -> str | None:
        cue = self.nearest_cue(start, end)
        return cue.kind if cue else None

    @staticmethod
    def _before(word: str, distance: int) -> str | None:
        if distance == 0 and word.casefold() in PHONE_LABELS:
            return "phone"
        kind = cue_of(word)
        return None if kind == "case" and distance >= CASE_REACH else kind


# Prices and quantities: "1249 €", "€ 89", "3.450,00 EUR", "1200 pcs", "x 2000".
UNIT_AFTER = re.compile(
    r"\s?(?:[%€$£]|(?:eur|euro|euros|usd|gbp|chf|dollars?|pounds?|kr|sek|nok|dkk|pln|czk|huf|ft|x|pcs|pieces?"
    r"|items?|pairs?|units?|times|kg|km|g|ml|l|cm|mm|m|mah|gb|mb)\b|[.,]\d\d\b)", re.IGNORECASE)
CURRENCY_BEFORE = re.compile(r"(?:[€$£]|\b(?:eur|usd|gbp|chf|x|qty|quantity))\s?$", re.IGNORECASE)


def is_amount(text: str, start: int, end: int) -> bool:
    return bool(UNIT_AFTER.match(text, end) or CURRENCY_BEFORE.search(text, 0, start))


def blanked(text: str, found: list[Found]) -> str:
    """The text with the found values replaced by spaces: later finders cannot read them again, and every
    offset stays where it was."""
    chars = list(text)
    for item in found:
        chars[item.start:item.end] = " " * (item.end - item.start)
    return "".join(chars)


# ------------------------------------------------------------------------------------------- emails

# Local part and domain start and end with a letter or digit (so brackets, quotes and full stops around an
# address stay outside); any alphabet, for names with diacritics and internationalised domains.
EMAIL = re.compile(
    r"(?<![\w.%+-])"
    r"[^\W_](?:[\w.%+'-]*[^\W_])?"
    r"@(?:[^\W_](?:[\w-]*[^\W_])?\.)+[^\W\d_]{2,}"
    r"(?![\w-])"
)


def emails_in(text: str) -> list[Found]:
    return [Found("email", m.group().lower(), m.start(), m.end()) for m in EMAIL.finditer(text)]


def normalized_email(text: str | None) -> str | None:
    """The email address in what was typed, lower-cased: "  M.Kovac@GMAIL.com. " -> m.kovac@gmail.com.
    Two addresses are no answer."""
    found = emails_in(text or "")
    return found[0].value if len(found) == 1 else None


# ------------------------------------------------------------------------------------------- phones

# "0049 …" and "(0044) …": 00 is the international call prefix in Europe, where the shop sells, but
# phonenumbers reads it only where the default region dials it so. " +" keeps every offset.
# Only where a number starts: "0043 660 0067852" has one international prefix, not two.
DOUBLE_ZERO = re.compile(r"(?<![\w+])(?<!\d[ ./-])(?<!\d\) )00(?=[1-9])")
INTERNATIONAL = re.compile(r"[(\s]*(?:\+|00[1-9])")
MIN_NATIONAL_DIGITS = 6  # "call me at 10:30", "call 112": times and short codes are no customer's number


def phone_matches(text: str, region: str) -> Iterator[tuple[int, int, phonenumbers.PhoneNumber]]:
    """Every possible phone number: right by its length, not necessarily one in use, because customers
    mistype a digit and numbers move between networks."""
    readable = DOUBLE_ZERO.sub(" +", text)
    for match in PhoneNumberMatcher(readable, region, leniency=Leniency.POSSIBLE):
        start = match.start - (readable[match.start] == "+" and text[match.start] == "0")  # from a "00"'s first 0
        if not is_amount(text, start, match.end) and not re.match(LETTERS, text[match.end:match.end + 1]) \
                and not re.search(rf"{LETTERS}$", text[:start]):  # JJD0012345678: a tracking number
            yield start, match.end, match.number


def e164(number: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def is_international(text: str) -> bool:
    return bool(INTERNATIONAL.match(text))


def international_phones_in(text: str, region: str = DEFAULT_PHONE_REGION) -> list[Found]:
    """Numbers with a country code ("+44 7911 123456", "0044 …", "(+30) 699 …"): phones whatever is around."""
    return [Found("phone", e164(number), start, end) for start, end, number in phone_matches(text, region)
            if is_international(text[start:end])]


def looks_like_a_phone(written: str, number: phonenumbers.PhoneNumber, region: str) -> bool:
    """A national number that no order number looks like: a trunk 0 ("0151 …"), an area code in brackets or
    before a slash, dots between groups, or a mobile number of the region written as people there write it
    (in Germany "0151…", never "151…")."""
    trunk_or_area = written.startswith(("0", "(")) and not written.startswith("00")  # 00… is no national number
    trunk = phonenumbers.PhoneMetadata.metadata_for_region(region).national_prefix
    mobile = phonenumbers.number_type(number) in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)
    return (trunk_or_area or bool(re.search(r"\d[./]\d", written))
            or (mobile and (trunk != "0" or written.startswith("0"))))


def national_phones_in(text: str, region: str = DEFAULT_PHONE_REGION) -> list[Found]:
    """Numbers without a country code, read in `region`, where the words around say phone, or where the
    number looks like a phone and no word right beside it says otherwise."""
    context = Context(text)
    found = []
    for start, end, number in phone_matches(text, region):
        written = text[start:end]
        if is_international(written) or len(re.sub(r"\D", "", written)) < MIN_NATIONAL_DIGITS:
            continue
        if HASH_BEFORE.search(text, 0, start).group():
            continue  # "#0151234567" is a reference number, never a phone
        cue = context.nearest_cue(start, end)
        if (cue and cue.kind == "phone") or ((not cue or cue.distance > ADJACENT)
                                             and looks_like_a_phone(written, number, region)):
            found.append(Found("phone", e164(number), start, end))
    return found


# ------------------------------------------------------------------------------------------- case numbers

# The CRM's numbers: T-000123, also typed T-123, t-123 or T123. Without the dash and with fewer than three
# digits only after a case word: "T5" is more often a size or a model than a ticket.
CASE_NUMBER = re.compile(r"(?<![\w-])[Tt](-?)(\d{1,9})(?![\w-])")
SHORT_CASE_DIGITS = 2
CASE_NUMBER_ALONE = re.compile(
    r"(?:(?:case|ticket|complaint|reference|ref)\.?\s*(?:number|no|nr)?\.?\s*[:#]?\s*)?(?:T-?)?(\d{1,9})",
    re.IGNORECASE)


def case_value(digits: str) -> str:
    return f"T-{int(digits):06d}"


def case_numbers_in(text: str) -> list[Found]:
    """T-numbers; short ones without a dash only after a case word or beside another case number
    ("close T49 please, T653 is the one that matters")."""
    context = Context(text)
    matches = list(CASE_NUMBER.finditer(text))
    clear = [m for m in matches if m.group(1) or len(m.group(2)) > SHORT_CASE_DIGITS]
    return [Found("case_number", case_value(m.group(2)), m.start(), m.end()) for m in matches
            if clear or context.kind(m.start(), m.end()) == "case"]


def normalized_case_number(text: str | None) -> str | None:
    """The case number typed when asked for it: "T-123", "t123", "ticket 77695", "#77695", or the first
    case number in a sentence; as the CRM writes it, T-000123."""
    typed = (text or "").strip().strip(".,;:!?'\"()[]<>").lstrip("#").strip()
    alone = CASE_NUMBER_ALONE.fullmatch(typed)
    if alone:
        return case_value(alone.group(1))
    found = case_numbers_in(typed)
    return found[0].value if found else None


# ------------------------------------------------------------------------------------------- dates

MONTH = (r"(?P<month>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
         r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)(?![^\W\d_])\.?")
ORDINAL = r"(?:st|nd|rd|th)?"
YEAR = r"(?:,?\s+(?P<year>\d{4})\b)?"
NUMBER_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fourteen": 14, "couple": 2}
AMOUNT = rf"(?P<amount>\d{{1,2}}|{'|'.join(NUMBER_WORDS)})"
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# Abbreviations count only where no day is named in full: "sun" and "sat" are also words ("Sun Cap").
WEEKDAY_NAMES = list(enumerate(WEEKDAYS))
WEEKDAY_SHORT = [(index, short) for index, shorts in enumerate(("mon", "tue tues", "wed", "thu thur thurs", "fri",
                                                                "sat", "sun")) for short in shorts.split()]

ISO_DATE = re.compile(r"(?<![\d-])(?P<year>20\d\d)-(?P<month>\d{1,2})-(?P<day>\d{1,2})(?![\d-])")
# Day first, as in Europe: 3.12., 03.12.2026, 3/12, 03/12/26. Never inside a longer run of digit groups
# (phone numbers written 63.01.38.18).
NUMERIC_DATE = re.compile(r"(?<![\d.,/])(?P<day>\d{1,2})[./](?P<month>\d{1,2})(?:[./](?P<year>\d{4}|\d{2}))?\.?"
                          r"(?![./]?\d)")
DAY_MONTH = re.compile(rf"\b(?:the\s+)?(?P<day>\d{{1,2}}){ORDINAL}\s*(?:of\s+)?{MONTH}{YEAR}", re.IGNORECASE)
MONTH_DAY = re.compile(rf"\b{MONTH}\s*(?:the\s+)?(?P<day>\d{{1,2}}){ORDINAL}\b{YEAR}", re.IGNORECASE)
DAY_AFTER_TOMORROW = re.compile(r"\b(?:the\s+)?day\s+after\s+tomorrow\b", re.IGNORECASE)
TOMORROW = re.compile(r"\b(?:tomorrow|tmrw)\b", re.IGNORECASE)
TODAY = re.compile(r"\btoday\b", re.IGNORECASE)
IN_DAYS = re.compile(rf"\bin\s+(?:a\s+)?{AMOUNT}(?:\s+of)?\s+(?P<unit>days?|weeks?)\b", re.IGNORECASE)
FROM_TODAY = re.compile(rf"\b{AMOUNT}\s+(?P<unit>days?|weeks?)\s+from\s+(?:today|now)\b", re.IGNORECASE)
FORTNIGHT = re.compile(r"\bin\s+a\s+fortnight\b", re.IGNORECASE)
NEXT_WEEK = re.compile(r"\bnext\s+week\b", re.IGNORECASE)
AFTER_NEXT = re.compile(r"^\s*after\s+next\b", re.IGNORECASE)


@dataclass(frozen=True)
class DateFound:
    start: int
    end: int
    day: date


def dates_in(text: str, today: date) -> list[DateFound]:
    """Every day the text names, in the order they stand, read relative to `today`. Digits that would be a
    date that does not exist (31.11., 0472-59-68) are no date."""
    found = [DateFound(m.start(), m.end(), day) for pattern, read in DATE_READERS
             for m in pattern.finditer(text) for day in [read(m, today)] if day]
    found += weekdays_in(text, today)
    kept: list[DateFound] = []
    for d in sorted(found, key=lambda d: (d.start, -(d.end - d.start))):
        if not any(k.start <= d.start < k.end for k in kept):  # "tomorrow" in "the day after tomorrow"
            kept.append(d)
    return kept


def date_in(text: str | None, today: date) -> date | None:
    """A delivery day as people type it: 2026-12-03, 3.12., 3 Dec, Dec. 3rd, the 3rd of December, tomorrow,
    the day after tomorrow, in 3 days, in a week, (this/next) friday, friday after next, monday next week.
    The first day named counts; "next week" alone names no day."""
    days = dates_in(text or "", today)
    return days[0].day if days else None


def _amount(m: re.Match) -> int:
    amount = m.group("amount").casefold()
    days = int(amount) if amount.isdigit() else NUMBER_WORDS[amount]
    return days * (7 if m.group("unit").casefold().startswith("week") else 1)


def _month_number(name: str) -> int:
    return next(i for i, month in enumerate(MONTHS, start=1) if month.startswith(name.casefold()[:3]))


def next_occurrence(today: date, month: int, day: int, year: str | None) -> date | None:
    """The day in the year given (two digits: this century), else its next occurrence from today on."""
    if year:
        return valid_date(int(year) + (2000 if len(year) == 2 else 0), month, day)
    this_year = valid_date(today.year, month, day)
    if this_year and this_year >= today:
        return this_year
    return valid_date(today.year + 1, month, day)


def valid_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


DATE_READERS: list[tuple[re.Pattern, Callable[[re.Match, date], date | None]]] = [
    (ISO_DATE, lambda m, today: valid_date(int(m["year"]), int(m["month"]), int(m["day"]))),
    (NUMERIC_DATE, lambda m, today: next_occurrence(today, int(m["month"]), int(m["day"]), m["year"])),
    (DAY_MONTH, lambda m, today: next_occurrence(today, _month_number(m["month"]), int(m["day"]), m["year"])),
    (MONTH_DAY, lambda m, today: next_occurrence(today, _month_number(m["month"]), int(m["day"]), m["year"])),
    (DAY_AFTER_TOMORROW, lambda m, today: today + timedelta(days=2)),
    (TOMORROW, lambda m, today: today + timedelta(days=1)),
    (TODAY, lambda m, today: today),
    (IN_DAYS, lambda m, today: today + timedelta(days=_amount(m))),
    (FROM_TODAY, lambda m, today: today + timedelta(days=_amount(m))),
    (FORTNIGHT, lambda m, today: today + timedelta(days=14)),
]


def weekdays_in(text: str, today: date) -> list[DateFound]:
    """ "friday", "fri", "this (coming) friday", "next friday": the next one after today; "friday after next"
    a week later; "friday next week" / "next week friday": that day of next week."""
    found = _weekday_mentions(text, WEEKDAY_NAMES) or _weekday_mentions(text, WEEKDAY_SHORT)
    next_week = [m.span() for m in NEXT_WEEK.finditer(text)]
    days = []
    for start, end, index in found:
        if any(abs(start - e) <= 4 or abs(s - end) <= 4 for s, e in next_week):
            monday = today + timedelta(days=7 - today.weekday())
            day = monday + timedelta(days=index)
        else:
            day = today + timedelta(days=(index - today.weekday()) % 7 or 7)
            if AFTER_NEXT.match(text[end:]):
                day += timedelta(days=7)
        days.append(DateFound(start, end, day))
    return days


def _weekday_mentions(text: str, names: list[tuple[int, str]]) -> list[tuple[int, int, int]]:
    return [(m.start(), m.end(), index) for index, name in names
            for m in re.finditer(rf"\b{name}\b\.?", text, re.IGNORECASE)]


# ------------------------------------------------------------------------------------------- coupon codes

# The shop's codes (benchmarks/understanding/entity_values.yml, data/nlu/shopping.yml): a word and an amount
# or year (SPRING25, welcome10, VIP5, EARLYBIRD-60, 20-THANKS, danke2026), random letters and digits
# (AAB8QS9R, GX46-FQJL), or words alone (FREESHIP, STUDENT-BDAY). One to three hyphenated parts.
CODE_TOKEN = re.compile(r"(?<![\w@.+#/-])[A-Za-z0-9]+(?:-[A-Za-z0-9]+){0,2}(?![\w@/-]|\.\w)")
# Never codes: other formats written with letters and digits, and amounts with their unit.
NOT_A_CODE = re.compile(
    rf"(?:{ORDER_WORDS})[-_:#]?\d+"                       # order100234: an order number
    r"|\d+(?:st|nd|rd|th|l|ml|cl|kg|g|mg|cm|mm|m|km|h|min|am|pm|gb|mb|tb|x|pcs|eur|usd|gbp|chf|mah|w|v)"
    r"|x\d+",
    re.IGNORECASE)
CODE_CUES = {"code", "codes", "coupon", "coupons", "voucher", "vouchers", "promo", "promocode", "discount",
             "redeem", "gutschein", "rabatt", "apply", "enter", "use"}
UK_POSTCODE = re.compile(r"[A-Z]{1,2}\d[A-Z\d]?\s+\d[A-Z]{2}\b", re.IGNORECASE)  # SW1A 1AA: no code
CODE_LENGTH = (4, 20)  # letters and digits: VIP5 yes, A4 or MP3 no
CODE_WORD_LENGTH = 5   # a word alone: FREESHIP yes, GTX, DHL or ASAP no
MAX_DIGIT_RUN = 4      # amounts and years; longer runs are tracking, order or phone numbers
code_cue = forgiving(CODE_CUES)
JOINER = re.compile(r"\s*,?\s*(?:and|or|&|/|then)?\s*", re.IGNORECASE)  # "SKIWEEK or BIKE70", "A, then B"


def coupon_codes_in(text: str) -> list[Found]:
    """Codes of letters and digits wherever they stand. A word alone is a code only after a cue ("code",
    "voucher", "promo" … among the three words before it) and written in capitals, or after "voucher:" in
    any case, or joined by "and"/"or"/"," to another code: otherwise it is more often a word, a shout or a
    brand than a code."""
    found: list[Found] = []
    words: list[re.Match] = []
    for m in CODE_TOKEN.finditer(text):
        if UK_POSTCODE.match(text, m.start()):
            continue
        compact = m.group().replace("-", "")
        letters = sum(char.isalpha() for char in compact)
        if letters == len(compact):
            words.append(m)
        elif _is_code_with_digits(m.group(), compact, letters):
            found.append(Found("coupon_code", m.group().upper(), m.start(), m.end()))
    for m in words:
        if _is_code_word(text, m, found):
            found.append(Found("coupon_code", m.group().upper(), m.start(), m.end()))
    return sorted(found, key=lambda f: f.start)


def _is_code_with_digits(token: str, compact: str, letters: int) -> bool:
    if not CODE_LENGTH[0] <= len(compact) <= CODE_LENGTH[1] or letters < 2 or NOT_A_CODE.fullmatch(token):
        return False
    if re.search(rf"\d{{{MAX_DIGIT_RUN + 1}}}", compact):
        return False
    return token.isupper() or not compact[0].isdigit()  # 3-pack, 2-person: an amount first only in capitals


def _is_code_word(text: str, m: re.Match, codes: list[Found]) -> bool:
    token = m.group()
    if not CODE_WORD_LENGTH <= len(token.replace("-", "")) <= CODE_LENGTH[1] or token.casefold() in CODE_CUES:
        return False
    before = WORD.findall(text[:m.start()])[-3:]
    labelled = bool(before) and code_cue(before[-1]) and text[:m.start()].rstrip().endswith(":")
    if labelled:
        return True
    if not token.isupper() or text.isupper():
        return False
    joined = any(JOINER.fullmatch(text[code.end:m.start()] if code.end <= m.start() else text[m.end():code.start])
                 for code in codes)
    return joined or any(code_cue(word) for word in before)


# ------------------------------------------------------------------------------------------- order numbers

# Digits grouped as people group them (100 234, 1 002 345, 100-234, 1002 3456), or a plain run.
GROUPED_DIGITS = r"\d{1,4}(?:[ -]\d{2,4})+|\d+"
DIGIT_RUN = re.compile(rf"(?<!\d)(?:{GROUPED_DIGITS})(?!\d)")
ORDER_NUMBER_ALONE = re.compile(rf"(?:(?:{ORDER_WORDS})\.?\s*[#:_.-]?\s*|#\s*)?"
                                rf"(?P<number>{GROUPED_DIGITS})", re.IGNORECASE)
GLUED = re.compile(rf"({LETTERS}+)[-_:#]?$")
YEAR_WORDS = {"in", "since", "until", "till", "year", "from", "of", "spring", "summer", "autumn", "fall", "winter"}
HOUSE_NUMBER_BEFORE = re.compile(rf"{LETTERS}{{2,}}\.?\s+\d{{1,4}}{LETTERS}?\s*,?\s*$")
CITY_AFTER = re.compile(rf"\s*,?\s*{LETTERS}")
CAPITALISED_AFTER = re.compile(r"\s*,?\s*[^\W\d_a-z]")
PLACE_BEFORE = re.compile(r"\b(?:to|in|at|nach)\s+$", re.IGNORECASE)


def bare_numbers_in(text: str) -> list[Found]:
    """Digit runs that no other finder took: a case number where a case word stands right before, an order
    number unless the words around it or its place say it is something else."""
    context = Context(text)
    found = []
    for run in DIGIT_RUN.finditer(text):
        digits = re.sub(r"\D", "", run.group())
        if not _stands_alone(text, run) or _is_amount_or_year(text, run, digits):
            continue
        cue = context.kind(run.start(), run.end())
        start = run.start() - len(HASH_BEFORE.search(text[:run.start()]).group())  # "#100234" is one value
        if cue == "case":
            found.append(Found("case_number", case_value(digits), start, run.end()))
        elif cue not in ("phone", "code") and _is_order_number(text, run, digits, cue):
            found.append(Found("order_id", digits, start, run.end()))
    return found


def _stands_alone(text: str, run: re.Match) -> bool:
    """Not part of a word (30L, JJD0099123456) unless the word is the order's ("order100234", "ordernr.5")."""
    if re.match(LETTERS, text[run.end():run.end() + 1]):
        return False
    glued = GLUED.search(text[:run.start()])
    return not glued or cue_of(glued.group(1)) in ("order", "case") or bool(ORDER_WORD.fullmatch(glued.group(1)))


def _is_amount_or_year(text: str, run: re.Match, digits: str) -> bool:
    if is_amount(text, run.start(), run.end()):
        return True
    previous = WORD.findall(text[max(0, run.start() - 20):run.start()])
    return len(digits) == 4 and 1950 <= int(digits) <= 2099 and bool(previous) \
        and previous[-1].casefold() in YEAR_WORDS


def _is_order_number(text: str, run: re.Match, digits: str, cue: str | None) -> bool:
    groups = re.split(r"[ -]", run.group())
    if not ORDER_DIGITS[0] <= len(digits) <= ORDER_DIGITS[1]:
        return False
    if len(groups) > 1 and max(len(group) for group in groups) < 3:
        return False  # 12-34, 39-42: a range or a size, not an order grouped in thousands
    return not _is_postcode(text, run, digits, cue)


def _is_postcode(text: str, run: re.Match, digits: str, cue: str | None) -> bool:
    """ "Hauptstr. 5, 10115 Berlin", "deliver to 1010 Wien", "my new address is 80331 munich": four or five
    digits before a place, after a house number, after "to"/"in" with the place in capitals, or where the
    words speak of an address."""
    if len(digits) not in (4, 5) or not CITY_AFTER.match(text, run.end()):
        return False
    before = text[:run.start()]
    return (cue == "address" or bool(HOUSE_NUMBER_BEFORE.search(before))
            or bool(PLACE_BEFORE.search(before) and CAPITALISED_AFTER.match(text, run.end())))


def normalized_order_number(text: str | None) -> str | None:
    """The order number typed when asked for it: "100234", "#100234", "no. 100234", "nr 100234",
    "order100234", "Order #100 234", "100-234"; its digits."""
    typed = (text or "").strip().strip(".,;:!?'\"()[]<>").strip()
    alone = ORDER_NUMBER_ALONE.fullmatch(typed)
    if not alone:
        return None
    digits = re.sub(r"\D", "", alone.group("number"))
    return digits if ORDER_DIGITS[0] <= len(digits) <= ORDER_DIGITS[1] else None


# ------------------------------------------------------------------------------------------- one-time codes

LOGIN_CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")


def login_code_in(text: str | None) -> str | None:
    """The 6-digit one-time code, also typed in groups ("482 913")."""
    match = LOGIN_CODE.search((text or "").replace(" ", ""))
    return match.group(1) if match else None


# ------------------------------------------------------------------------------------------- all together

def entities_in(text: str, phone_region: str = DEFAULT_PHONE_REGION) -> list[Found]:
    """Every value with a known format in the text, each character read once.

    The finders run in this order, and each sees the text without what the earlier ones took:
    1. emails: their local parts hold digits, dots and plus signs that read as anything else;
    2. phone numbers with a country code ("+", "00"): nothing else is written that way, and their digit groups
       would otherwise read as order numbers or dates;
    3. case numbers T-000123 / T123: the T says what they are;
    4. dates (not entities: the delivery day is read from the whole message by `date_in`), taken out because
       2026-12-03 and 03/12/26 are digit runs;
    5. coupon codes: BIKE70, 12-THANKS and danke2026 hold digits;
    6. national phone numbers, read in `phone_region`: where the words around say phone, or where the number
       looks like a phone (a trunk 0, an area code in brackets, a mobile number) and no word beside it says
       otherwise;
    7. the remaining digit runs: a case number after a case word, else an order number unless it is an amount,
       a year, a postcode or stands where a one-time code or a phone number was announced.
    """
    found: list[Found] = []

    def take(finder: Callable[[str], list[Found]]) -> None:
        found.extend(finder(blanked(text, found)))

    take(emails_in)
    take(lambda rest: international_phones_in(rest, phone_region))
    take(case_numbers_in)
    take(lambda rest: [Found("date", d.day.isoformat(), d.start, d.end) for d in dates_in(rest, date.today())])
    take(coupon_codes_in)
    take(lambda rest: national_phones_in(rest, phone_region))
    take(bare_numbers_in)
    return sorted((f for f in found if f.entity != "date"), key=lambda f: f.start)
