"""The access log's path: no email address and no secret from a path reaches the log."""

from __future__ import annotations

import pytest

from bot.web.middleware import loggable_path


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        ("/continue/eyJhIjoxfQ.c2ln", "/continue/{token}"),
        ("/email/unsubscribe/WyJ5YW5ndGVuZy1hdXRvIiwiYWxleEBleGFtcGxlLmNvbSIsMV0.c2ln", "/email/unsubscribe/{token}"),
        ("/webhooks/email/inbound/s3cr3t-path-token", "/webhooks/email/inbound/{token}"),
        ("/seller/api/stores/yangteng-auto/team/ana@example.com", "/seller/api/stores/yangteng-auto/team/{email}"),
        ("/api/v1/conversations/abc/messages", "/api/v1/conversations/abc/messages"),
        ("/continue/", "/continue/"),
    ],
)
def test_the_logged_path_hides_addresses_and_path_secrets(path: str, logged: str) -> None:
    assert loggable_path(path) == logged
