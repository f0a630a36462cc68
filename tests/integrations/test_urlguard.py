"""The one SSRF guard, shared by the feed reader, the add-a-feed form and webhooks."""

from __future__ import annotations

import socket

import pytest

from integrations.urlguard import private_host_reason, refuse_private


def _resolves_to(*addresses: str):
    def resolve(host: str, port: None) -> list[tuple[object, ...]]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, 0)) for a in addresses]

    return resolve


@pytest.mark.parametrize(
    "address", ["127.0.0.1", "10.1.2.3", "169.254.169.254", "::1", "fe80::1%eth0"]
)
def test_non_public_addresses_are_refused(address):
    reason = private_host_reason("https://cal.example/f.ics", _resolves_to(address))
    assert reason == "cal.example is a private or local address; only public servers can be used"


def test_one_private_address_among_public_ones_is_enough_to_refuse():
    resolve = _resolves_to("93.184.216.34", "192.168.0.5")
    assert private_host_reason("webcal://cal.example/f.ics", resolve) is not None
    assert private_host_reason("webcal://cal.example/f.ics", _resolves_to("93.184.216.34")) is None


def test_an_unknown_host_and_the_webhook_form():
    def unknown(host: str, port: None) -> list[tuple[object, ...]]:
        raise socket.gaierror("no such host")

    assert private_host_reason("https://nowhere.invalid/", unknown) == (
        "unknown host 'nowhere.invalid'; check the URL"
    )
    with pytest.raises(ValueError, match="127.0.0.1 is a private or local address"):
        refuse_private("http://127.0.0.1:9/hook")
