"""woocommerce: to be written (issue 17)."""

from __future__ import annotations

from collections.abc import Mapping

from bot.integrations.shop_orders import ShopDelivery


def read_delivery(headers: Mapping[str, str], body: bytes, keys: list[str], shop: str | None) -> ShopDelivery:
    raise NotImplementedError
