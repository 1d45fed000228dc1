"""Connectors to the systems sellers already run: their shop (Shopify, WooCommerce) and their
tracking provider (AfterShip, EasyPost, 17TRACK). Each provider's signature and mapping lives in
its own module; what they share (the store's connectors, their keys, the order writer and the
order webhook pipeline) lives once, here."""
