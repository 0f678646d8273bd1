"""The world's countries, so a question can name any of them.

The shop's data lists only the countries it ships to (by ISO code). To answer
"we don't ship to Brazil" we must still recognise "Brazil" as a country, so the
full ISO 3166 list lives here, as general knowledge rather than shop data.
Names and aliases are matched after `text.fold` (lowercase, no accents).
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import get_close_matches

from knowledge.text import COMMON_WORDS, words

# CODE | name as said in a sentence ("the" where English needs it) | more ways to say it.
# Aliases avoid everyday words: "us" is a pronoun, so the United States is "usa", "the us", ...
_TABLE = """
AD | Andorra |
AE | the United Arab Emirates | uae, emirates
AF | Afghanistan |
AG | Antigua and Barbuda | antigua
AL | Albania | shqiperia
AM | Armenia |
AO | Angola |
AR | Argentina |
AT | Austria | osterreich, oesterreich
AU | Australia |
AZ | Azerbaijan |
BA | Bosnia and Herzegovina | bosnia
BB | Barbados |
BD | Bangladesh |
BE | Belgium | belgie, belgique, belgien
BF | Burkina Faso |
BG | Bulgaria |
BH | Bahrain |
BI | Burundi |
BJ | Benin |
BN | Brunei |
BO | Bolivia |
BR | Brazil | brasil
BS | the Bahamas | bahamas
BT | Bhutan |
BW | Botswana |
BY | Belarus |
BZ | Belize |
CA | Canada |
CD | the Democratic Republic of the Congo | dr congo, drc, congo kinshasa
CF | the Central African Republic |
CG | the Republic of the Congo | congo, congo brazzaville
CH | Switzerland | schweiz, suisse, svizzera, schwiiz
CI | Ivory Coast | cote d ivoire, cote divoire
CL | Chile |
CM | Cameroon |
CN | China | prc
CO | Colombia |
CR | Costa Rica |
CU | Cuba |
CV | Cape Verde | cabo verde
CY | Cyprus |
CZ | the Czech Republic | czechia, czech, cesko
DE | Germany | deutschland
DJ | Djibouti |
DK | Denmark | danmark
DM | Dominica |
DO | the Dominican Republic |
DZ | Algeria | algerie
EC | Ecuador |
EE | Estonia | eesti
EG | Egypt |
ER | Eritrea |
ES | Spain | espana
ET | Ethiopia |
FI | Finland | suomi
FJ | Fiji |
FM | Micronesia |
FR | France |
GA | Gabon |
GB | the United Kingdom | uk, u k, great britain, britain, england, scotland, wales, northern ireland
GD | Grenada |
GE | Georgia |
GH | Ghana |
GL | Greenland |
GM | the Gambia | gambia
GN | Guinea |
GQ | Equatorial Guinea |
GR | Greece | hellas
GT | Guatemala |
GW | Guinea-Bissau |
GY | Guyana |
HK | Hong Kong |
HN | Honduras |
HR | Croatia | hrvatska
HT | Haiti |
HU | Hungary | magyarorszag
ID | Indonesia |
IE | Ireland | eire, republic of ireland
IL | Israel |
IN | India |
IQ | Iraq |
IR | Iran |
IS | Iceland |
IT | Italy | italia
JM | Jamaica |
JO | Jordan |
JP | Japan |
KE | Kenya |
KG | Kyrgyzstan |
KH | Cambodia |
KI | Kiribati |
KM | the Comoros | comoros
KN | Saint Kitts and Nevis | st kitts, saint kitts
KP | North Korea |
KR | South Korea | korea
KW | Kuwait |
KZ | Kazakhstan |
LA | Laos |
LB | Lebanon |
LC | Saint Lucia | st lucia
LI | Liechtenstein |
LK | Sri Lanka |
LR | Liberia |
LS | Lesotho |
LT | Lithuania | lietuva
LU | Luxembourg | luxemburg, letzebuerg
LV | Latvia | latvija
LY | Libya |
MA | Morocco | maroc
MC | Monaco |
MD | Moldova |
ME | Montenegro | crna gora
MG | Madagascar |
MH | the Marshall Islands | marshall islands
MK | North Macedonia | macedonia
ML | Mali |
MM | Myanmar | burma
MN | Mongolia |
MR | Mauritania |
MT | Malta |
MU | Mauritius |
MV | the Maldives | maldives
MW | Malawi |
MX | Mexico | mexiko
MY | Malaysia |
MZ | Mozambique |
NA | Namibia |
NE | Niger |
NG | Nigeria |
NI | Nicaragua |
NL | the Netherlands | netherlands, holland, nederland
NO | Norway | norge, noreg
NP | Nepal |
NR | Nauru |
NZ | New Zealand | aotearoa
OM | Oman |
PA | Panama |
PE | Peru |
PG | Papua New Guinea |
PH | the Philippines | philippines
PK | Pakistan |
PL | Poland | polska
PR | Puerto Rico |
PS | Palestine | palestinian territories
PT | Portugal |
PW | Palau |
PY | Paraguay |
QA | Qatar |
RO | Romania |
RS | Serbia | srbija
RU | Russia | russian federation
RW | Rwanda |
SA | Saudi Arabia |
SB | the Solomon Islands | solomon islands
SC | the Seychelles | seychelles
SD | Sudan |
SE | Sweden | sverige
SG | Singapore |
SI | Slovenia | slovenija
SK | Slovakia | slovensko
SL | Sierra Leone |
SM | San Marino |
SN | Senegal |
SO | Somalia |
SR | Suriname |
SS | South Sudan |
ST | Sao Tome and Principe | sao tome
SV | El Salvador |
SY | Syria |
SZ | Eswatini | swaziland
TD | Chad |
TG | Togo |
TH | Thailand |
TJ | Tajikistan |
TL | East Timor | timor leste
TM | Turkmenistan |
TN | Tunisia | tunisie
TO | Tonga |
TR | Turkey | turkiye
TT | Trinidad and Tobago | trinidad
TV | Tuvalu |
TW | Taiwan |
TZ | Tanzania |
UA | Ukraine |
UG | Uganda |
US | the United States | usa, u s a, u s, the us, united states of america, america, the states
UY | Uruguay |
UZ | Uzbekistan |
VA | Vatican City | vatican, holy see
VC | Saint Vincent and the Grenadines | st vincent, saint vincent
VE | Venezuela |
VN | Vietnam | viet nam
VU | Vanuatu |
WS | Samoa |
XK | Kosovo |
YE | Yemen |
ZA | South Africa |
ZM | Zambia |
ZW | Zimbabwe |
"""

# The 27 member states, so an answer can say "all EU countries" instead of listing them.
EU_MEMBERS = frozenset(
    "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE".split()
)

# Fuzzy matching only for long names: short ones sit too close to ordinary words
# ("mali"/"mail", "oman"/"woman", "chad"/"chat").
FUZZY_MIN_LENGTH = 6
FUZZY_CUTOFF = 0.84


@dataclass(frozen=True)
class Country:
    code: str
    name: str  # as said in a sentence: "the Netherlands"

    @property
    def short_name(self) -> str:
        """Without a leading "the", e.g. for lists and headings."""
        return self.name[4:] if self.name.startswith("the ") else self.name


def _parse_table() -> tuple[dict[str, Country], dict[tuple[str, ...], str]]:
    by_code: dict[str, Country] = {}
    code_by_phrase: dict[tuple[str, ...], str] = {}
    for line in _TABLE.strip().splitlines():
        code, name, aliases = (part.strip() for part in line.split("|"))
        country = Country(code, name)
        by_code[code] = country
        for said in [country.short_name, *filter(None, (a.strip() for a in aliases.split(",")))]:
            code_by_phrase[tuple(words(said))] = code
    return by_code, code_by_phrase


COUNTRIES, _CODE_BY_PHRASE = _parse_table()
_LONGEST_PHRASE = max(len(phrase) for phrase in _CODE_BY_PHRASE)
_FUZZY_NAMES = {phrase[0]: code for phrase, code in _CODE_BY_PHRASE.items()
                if len(phrase) == 1 and len(phrase[0]) >= FUZZY_MIN_LENGTH}


def country_by_code(code: str) -> Country | None:
    return COUNTRIES.get(code.strip().upper())


def resolve_country(value: str) -> Country | None:
    """A country from an NLU entity value: an ISO code ("DE"), a name or an alias ("UK")."""
    if len(value.strip()) == 2 and value.strip().isalpha() and value.strip().upper() in COUNTRIES:
        return COUNTRIES[value.strip().upper()]
    found = find_country(words(value))
    return found[0] if found else None


def find_country(tokens: list[str]) -> tuple[Country, tuple[int, int]] | None:
    """The first country named in `tokens` (from `text.words`), and the span of positions naming it.

    Longest phrase first, so "united states of america" wins over "america".
    The span lets the caller drop the country's words before lexical scoring.
    """
    for start in range(len(tokens)):
        for length in range(min(_LONGEST_PHRASE, len(tokens) - start), 0, -1):
            code = _CODE_BY_PHRASE.get(tuple(tokens[start:start + length]))
            if code:
                return COUNTRIES[code], (start, start + length)
    return _find_misspelt_country(tokens)


def _find_misspelt_country(tokens: list[str]) -> tuple[Country, tuple[int, int]] | None:
    for position, token in enumerate(tokens):
        if len(token) >= FUZZY_MIN_LENGTH and not _is_common_word(token):
            # A typo drops, adds or swaps a letter: "portal" is not "portugal".
            similar_length = [name for name in _FUZZY_NAMES if abs(len(name) - len(token)) <= 1]
            close = get_close_matches(token, similar_length, n=1, cutoff=FUZZY_CUTOFF)
            if close:
                return COUNTRIES[_FUZZY_NAMES[close[0]]], (position, position + 1)
    return None


def _is_common_word(token: str) -> bool:
    # Words of the policy vocabulary must never turn into a country by a typo match.
    return token in COMMON_WORDS
