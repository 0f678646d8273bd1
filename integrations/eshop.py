"""The e-shop port: what the flows need from a shop, whatever platform runs it."""

from __future__ import annotations

from abc import ABC, abstractmethod

from integrations.models import LoginCodeCheck, Order


class EShop(ABC):
    # Whether the platform can email a one-time code (send_login_code); where it cannot,
    # those two methods raise Unsupported and customers verify with order number and email.
    login_codes_supported: bool = True

    @abstractmethod
    async def get_order(self, number: str) -> Order:
        """The order with this number; raises NotFound.

        Callers must check `Order.belongs_to` before showing anything of it.
        """

    @abstractmethod
    async def orders_of_customer(self, customer_id: str) -> list[Order]:
        """The customer's orders, newest first."""

    @abstractmethod
    async def send_login_code(self, email: str) -> None:
        """Email a one-time code if the address belongs to a customer.

        Says nothing either way, so that nobody can probe who is a customer.
        """

    @abstractmethod
    async def verify_login_code(self, email: str, code: str) -> LoginCodeCheck:
        """Whether the code is the one sent to this email."""

    def forget_cached_catalog(self) -> int:
        """A webhook said products changed: drop cached catalog reads; returns how many.

        Adapters that cache catalog reads override this; the others have nothing to forget.
        """
        return 0
