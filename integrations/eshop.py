"""The e-shop port: what the flows need from a shop, whatever platform runs it."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import date

from integrations.errors import InvalidRequest, Refused, Unsupported
from integrations.models import (
    Address,
    Cancellation,
    LoginCodeCheck,
    Order,
    OrderStatus,
    PickupPoint,
    ReturnEligibility,
    ReturnItem,
    Rma,
)

# Where an order can still be changed or cancelled: nothing has left the warehouse yet.
IN_WAREHOUSE = frozenset({OrderStatus.PENDING, OrderStatus.PAID})


class EShop(ABC):
    # Whether the platform can email a one-time code (send_login_code); where it cannot,
    # those two methods raise Unsupported and customers verify with order number and email.
    login_codes_supported: bool = True
    # What change_delivery can change on this platform: "address", "date" (the delivery day), "pickup" (a pickup
    # point); the flow offers only these.
    delivery_changes: frozenset[str] = frozenset()

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

    # ---- service requests. Not abstract: adapters of platforms that cannot do them (yet) inherit these
    # refusals, and the flow offers a person instead. Refusals by the shop's rules raise Refused.

    async def change_delivery(
        self,
        number: str,
        *,
        address: Address | None = None,
        delivery_date: date | None = None,
        pickup_point_id: str | None = None,
        idempotency_key: str,
    ) -> Order:
        """A new shipping address or pickup point and/or delivery day while the order is still in the warehouse.

        Give `address` or `pickup_point_id` (one of `pickup_points`), not both; the updated order, whose
        `pickup_point_id` says where it now goes. Raises Refused (order_already_shipped, order_cancelled),
        InvalidRequest (an address, pickup point or day the shop cannot deliver to, named in `fields`), NotFound.
        """
        raise self._unsupported("delivery changes")

    async def pickup_points(self, country: str, postal_code: str, limit: int = 3) -> list[PickupPoint]:
        """The country's pickup points nearest the postcode, nearest first.

        Raises InvalidRequest (fields["country"]) for a country the shop does not deliver to.
        """
        raise self._unsupported("pickup points")

    async def cancel_order(self, number: str, *, reason: str, idempotency_key: str) -> Cancellation:
        """Cancel an order still in the warehouse; a paid one is refunded (`refund.status` pending until the money is
        back, also where the shop refunds by hand). The same key repeats the same answer.

        Raises Refused (order_already_shipped, order_cancelled), NotFound.
        """
        raise self._unsupported("cancellations")

    async def return_eligibility(self, number: str) -> ReturnEligibility:
        """Per SKU of the order: how many may still be returned, or why none may."""
        raise self._unsupported("returns")

    async def create_return(self, number: str, items: list[ReturnItem], *, idempotency_key: str) -> Rma:
        """Open a return with a prepaid label; all items or none. The same key gives the same return.

        Raises Refused with the first refused item's reason and `items` per SKU, NotFound for an unknown order.
        """
        raise self._unsupported("returns")

    async def get_return(self, rma_number: str) -> Rma:
        """The return with this number; raises NotFound."""
        raise self._unsupported("returns")

    async def returns_of_order(self, number: str) -> list[Rma]:
        """The order's returns, newest first."""
        raise self._unsupported("returns")

    def handles(self, request: str) -> bool:
        """Whether this adapter carries out `request`, one of the optional methods above ("cancel_order", ...).

        The flows ask before they ask the customer anything for a request the shop cannot take.
        """
        return getattr(type(self), request) is not getattr(EShop, request)

    def _only_an_address(self, address: Address | None, delivery_date: date | None,
                         pickup_point_id: str | None) -> Address:
        """change_delivery's new address, for platforms that keep no delivery day and no pickup points."""
        if delivery_date is not None or pickup_point_id is not None:
            raise self._unsupported("delivery days and pickup points")
        if address is None:
            raise InvalidRequest(f"{type(self).__name__}: a new address is needed", {"address": "missing"})
        return address

    def _unsupported(self, what: str) -> Unsupported:
        return Unsupported(f"{type(self).__name__} does not handle {what}")


def refuse_unless_in_warehouse(order: Order) -> None:
    """For adapters whose platform would take any change: refuse as the sandbox's API does (Refused's reasons)."""
    if order.status is OrderStatus.CANCELLED:
        raise Refused(f"order {order.number} is cancelled", "order_cancelled")
    if order.status not in IN_WAREHOUSE:
        raise Refused(f"order {order.number} has left the warehouse", "order_already_shipped")
