"""Normalising what users type for the things forms ask for."""

from __future__ import annotations

import re

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
ORDER_NUMBER = re.compile(r"^#?\s*(\d{4,10})$")
LOGIN_CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")


def normalized_email(text: str | None) -> str | None:
    candidate = (text or "").strip().strip(".,;").lower()
    return candidate if EMAIL.match(candidate) else None


def normalized_order_number(text: str | None) -> str | None:
    match = ORDER_NUMBER.match((text or "").strip())
    return match.group(1) if match else None


def login_code_in(text: str | None) -> str | None:
    match = LOGIN_CODE.search((text or "").replace(" ", ""))
    return match.group(1) if match else None
