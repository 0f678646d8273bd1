"""The rules for values with a known format (nlu_components/formats.py), on messages written for these tests:
other domains and countries than the training data and the benchmark's generator, names with diacritics,
lower case, no punctuation, typos around the value, two values in one message, and numbers that must not be
taken for what they are not."""

from __future__ import annotations

from datetime import date

import pytest

from nlu_components.formats import (
    date_in,
    entities_in,
    login_code_in,
    normalized_case_number,
    normalized_email,
    normalized_order_number,
)

TODAY = date(2027, 3, 10)  # a Wednesday


def values(text: str, entity: str, region: str = "DE") -> list[str]:
    return [found.value for found in entities_in(text, region) if found.entity == entity]


def kinds(text: str, region: str = "DE") -> list[tuple[str, str]]:
    return [(found.entity, text[found.start:found.end]) for found in entities_in(text, region)]


# ------------------------------------------------------------------------------------------- emails

@pytest.mark.parametrize("text, expected", [
    ("you'll find me as Ingeborg.Lund+Returns@Post.Uio.NO", ["ingeborg.lund+returns@post.uio.no"]),
    ("zoë.ångström@mailbox.org is the one I use", ["zoë.ångström@mailbox.org"]),
    ("Send it to <ABBY.O'NEILL@BTOPENWORLD.COM>.", ["abby.o'neill@btopenworld.com"]),
    ("(m.zielinska@poczta.onet.eu), thanks", ["m.zielinska@poczta.onet.eu"]),
    ("email:marta_rossi77@fastweb.it", ["marta_rossi77@fastweb.it"]),
    ("its kees van rijn kees-vanrijn1984@hetnet.nl thx", ["kees-vanrijn1984@hetnet.nl"]),
    ("ive got two, f.lefevre@univ-paris8.fr and g.lefevre@laposte.fr, try both",
     ["f.lefevre@univ-paris8.fr", "g.lefevre@laposte.fr"]),
    ("registered with tomas.horak@inbox.lv... or so i thought", ["tomas.horak@inbox.lv"]),
])
def test_emails_at_any_domain_are_found_and_lower_cased(text, expected):
    assert values(text, "email") == expected


def test_an_email_with_digits_and_dots_is_not_read_as_a_phone_or_an_order():
    text = "write to 0171.fan.4417@kabelmail.de or ring 0171 4455667"
    assert kinds(text) == [("email", "0171.fan.4417@kabelmail.de"), ("phone", "0171 4455667")]


@pytest.mark.parametrize("typed, expected", [
    ("  M.Kovac@GMAIL.com. ", "m.kovac@gmail.com"),
    ("<Renate.Krause@hispeed.ch>,", "renate.krause@hispeed.ch"),
    ("mailto:ops@eu.reisebuero-sonne.at", "ops@eu.reisebuero-sonne.at"),
    ("it's li.wei+shop@mail.ntu.edu.sg", "li.wei+shop@mail.ntu.edu.sg"),
    ("renate.krause@hispeed", None),
    ("renate at hispeed dot ch", None),
    ("a.b@hispeed.ch or c.d@hispeed.ch", None),  # two addresses: which one?
    (None, None),
])
def test_an_email_typed_when_asked_is_taken(typed, expected):
    assert normalized_email(typed) == expected


# ------------------------------------------------------------------------------------------- order numbers

@pytest.mark.parametrize("text, expected", [
    ("where's my parcel, order 400 812?", ["400812"]),
    ("Order-Nr. 7731904 still not here", ["7731904"]),
    ("order#2718281 came without the poles", ["2718281"]),
    ("ordernr88231 pls", ["88231"]),
    ("the number is 1-204-559", ["1204559"]),
    ("is 12 345 678 on its way", ["12345678"]),
    ("no 3344556 has not been shipped", ["3344556"]),
    ("did #660 0217 ship", ["6600217"]),
    ("odrer 551903 hasnt arived", ["551903"]),
    ("Both 880123 and 880124 are late", ["880123", "880124"]),
    ("909090", ["909090"]),
])
def test_order_numbers_as_people_write_them(text, expected):
    assert values(text, "order_id") == expected


@pytest.mark.parametrize("text, expected", [
    ("call me on 0176 44332211 about order 991 200", [("phone", "0176 44332211"), ("order_id", "991 200")]),
    ("Deliver to Rosenweg 4, 80469 München instead, order 661204", [("order_id", "661204")]),
    ("new address: Mühlgasse 9 1060 Wien", []),
    ("i moved to 4020 linz, parcel 7730122", [("order_id", "7730122")]),
    ("it cost 1249 € and the order is 348812", [("order_id", "348812")]),
    ("I need 1200 pcs for the club", []),
    ("paid 3.450,00 EUR for order 5500123", [("order_id", "5500123")]),
    ("bought in 2024, order 8842 broke", [("order_id", "8842")]),
    ("the code in the email is 640 218", []),
    ("here's my code: 902117", []),
    ("T-004512 is about order 771203", [("case_number", "T-004512"), ("order_id", "771203")]),
    ("ordered on 12.11.2026, the number is 5512093", [("order_id", "5512093")]),
    ("deliver it on 2027-03-12 please", []),
    ("my size is 44-46 and I want 2 of them", []),
    ("tracking JJD0012345678 stopped moving", []),
])
def test_numbers_that_are_something_else_are_not_order_numbers(text, expected):
    assert kinds(text) == expected


@pytest.mark.parametrize("typed, expected", [
    ("100 234", "100234"), ("#100234", "100234"), ("# 100234", "100234"), ("no. 100234", "100234"),
    ("nr 100234", "100234"), ("order100234", "100234"), ("Order #100 234", "100234"), ("100-234", "100234"),
    ("Nº 5521", "5521"), ("ORDERNR.5550123", "5550123"), (" 77 123 456. ", "77123456"),
    ("123", None), ("12345678901", None), ("it was 100234 I think", None), ("", None), (None, None),
])
def test_an_order_number_typed_when_asked_is_taken(typed, expected):
    assert normalized_order_number(typed) == expected


@pytest.mark.parametrize("typed, expected", [
    ("640218", "640218"), ("640 218", "640218"), ("the code is 640218", "640218"), ("6402", None), (None, None),
])
def test_a_one_time_code_is_six_digits(typed, expected):
    assert login_code_in(typed) == expected


# ------------------------------------------------------------------------------------------- phone numbers

@pytest.mark.parametrize("text, expected", [
    ("you can reach me on +44 7700 900123", ["+447700900123"]),
    ("0044 7700 900456 is my uk mobile", ["+447700900456"]),
    ("Portuguese number (+351) 912 345 678", ["+351912345678"]),
    ("büro +43 (0)664 1234567, privat +43 676 7654321", ["+436641234567", "+436767654321"]),
    ("0039 347 1234567 whatsapp only", ["+393471234567"]),
    ("US line: +1 (212) 555-0147", ["+12125550147"]),
    ("+420-603-123-456", ["+420603123456"]),
    ("call 0151 2345 6789 or if i dont answer 030 / 1234 5678", ["+4915123456789", "+493012345678"]),
    ("Mein Handy: 0176-22334455", ["+4917622334455"]),
    ("(089) 123 45 67 after five", ["+49891234567"]),
    ("mobile 0160.1234567", ["+491601234567"]),
])
def test_phone_numbers_in_international_and_german_formats_become_e164(text, expected):
    assert values(text, "phone") == expected


@pytest.mark.parametrize("text, region, expected", [
    ("appelez-moi au 06 12 34 56 78", "FR", "+33612345678"),
    ("bel me op 06-12345678", "NL", "+31612345678"),
    ("call me at (415) 555-0132", "US", "+14155550132"),
    ("il mio cellulare è 347 123 4567", "IT", "+393471234567"),
    ("ring 087 123 4567 after 6", "IE", "+353871234567"),
])
def test_national_numbers_are_read_in_the_region_given(text, region, expected):
    assert values(text, "phone", region) == [expected]


def test_a_phone_number_is_not_an_order_number_nor_a_date():
    assert kinds("my mobile is 0157 88990011, order 202122") == [("phone", "0157 88990011"),
                                                                 ("order_id", "202122")]
    assert kinds("tel 06.12.34.56.78", "FR") == [("phone", "06.12.34.56.78")]


# ------------------------------------------------------------------------------------------- case numbers

@pytest.mark.parametrize("text, expected", [
    ("any news on T-000873?", ["T-000873"]),
    ("my ticket is t-4512", ["T-004512"]),
    ("T12345 please", ["T-012345"]),
    ("complaint 88123 from last month", ["T-088123"]),
    ("Ticket no. 4410 is still open", ["T-004410"]),
    ("reference #55102", ["T-055102"]),
    ("case T7", ["T-000007"]),
    ("merge T12 into T-000340", ["T-000012", "T-000340"]),
])
def test_case_numbers_in_the_crms_format(text, expected):
    assert values(text, "case_number") == expected


def test_a_t_with_a_small_number_alone_is_no_case():
    assert kinds("Do you still sell the T5 tent?") == []


@pytest.mark.parametrize("typed, expected", [
    ("T-77", "T-000077"), ("t4512", "T-004512"), ("88123", "T-088123"), ("#88123", "T-088123"),
    ("case no. 88123", "T-088123"), ("I wrote about T-55 yesterday", "T-000055"), ("no idea", None),
])
def test_a_case_number_typed_when_asked_is_taken(typed, expected):
    assert normalized_case_number(typed) == expected


# ------------------------------------------------------------------------------------------- coupon codes

@pytest.mark.parametrize("text, expected", [
    ("does GLETSCHER25 still work", ["GLETSCHER25"]),
    ("i typed sommer2027 at checkout", ["SOMMER2027"]),
    ("X9K4-PQ72 was in the parcel", ["X9K4-PQ72"]),
    ("got 15-OFF from a friend", ["15-OFF"]),
    ("tried herbst-20 then WANDERLUST both rejected", ["HERBST-20", "WANDERLUST"]),
    ("promo code HERBSTFEST please", ["HERBSTFEST"]),
    ("voucher: wanderlust", ["WANDERLUST"]),
    ("Gutschein KLETTERN10 geht nicht", ["KLETTERN10"]),
])
def test_coupon_codes_are_found_and_upper_cased(text, expected):
    assert values(text, "coupon_code") == expected


@pytest.mark.parametrize("text", [
    "I LOVE THIS JACKET",
    "the code didnt work",
    "the voucher expired yesterday",
    "is the Ridge Backpack 30L waterproof",
    "a 3-pack of socks in size 42",
    "send it to London SW1A 2AA",
    "deliver at 10am on the 2nd",
])
def test_words_amounts_and_sizes_are_no_coupon_codes(text):
    assert values(text, "coupon_code") == []


# ------------------------------------------------------------------------------------------- dates

@pytest.mark.parametrize("text, expected", [
    ("maybe 3 dec", date(2027, 12, 3)),  # not May
    ("Dec. 3 suits me", date(2027, 12, 3)),
    ("may I have it on 14 march", date(2027, 3, 14)),
    ("the 21st of January", date(2028, 1, 21)),
    ("march 9th", date(2028, 3, 9)),
    ("on 05.04.", date(2027, 4, 5)),
    ("12/03/27 works", date(2027, 3, 12)),
    ("2027-04-01", date(2027, 4, 1)),
    ("tomorrow", date(2027, 3, 11)),
    ("the day after tomorrow", date(2027, 3, 12)),
    ("in 4 days", date(2027, 3, 14)),
    ("in two weeks", date(2027, 3, 24)),
    ("a week from today", date(2027, 3, 17)),
    ("friday", date(2027, 3, 12)),
    ("this coming Wednesday", date(2027, 3, 17)),
    ("friday after next", date(2027, 3, 19)),
    ("tuesday next week", date(2027, 3, 16)),
    ("next week on thu", date(2027, 3, 18)),
    ("my Sun Cap on saturday please", date(2027, 3, 13)),
    ("next week", None),  # no day named
    ("31.04.", None),     # no such day
    ("whenever you like", None),
    (None, None),
])
def test_a_delivery_day_as_people_type_it(text, expected):
    assert date_in(text, TODAY) == expected


# ------------------------------------------------------------------------------------------- all together

def test_one_message_with_everything_is_read_once():
    text = ("Hi, Søren Brøndum here (s.brondum@kabelmail.de): order 5 512 093 arrived torn, ticket T-000912, "
            "call +45 20 12 34 56 or 0176 12345678; code WINTERZAUBER20 wasn't applied either; on 3.4. I'm away")
    assert kinds(text) == [
        ("email", "s.brondum@kabelmail.de"), ("order_id", "5 512 093"), ("case_number", "T-000912"),
        ("phone", "+45 20 12 34 56"), ("phone", "0176 12345678"), ("coupon_code", "WINTERZAUBER20"),
    ]
