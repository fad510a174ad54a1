"""Credentials the emulator accepts, and the fixed facts every module shares."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

#: Sandboxes that exist in the emulated IMS organization.
SANDBOXES = frozenset({"prod", "dev"})

#: What a secret auth parameter looks like in a GET answer (the real value is never returned).
MASK = "<masked>"


@dataclass
class EmulatorCredentials:
    """The one IMS client and the one Zoho client the emulator recognises."""

    ims_client_id: str = "emulator-client-id"
    ims_client_secret: str = "emulator-client-secret"
    ims_org_id: str = "EMULATOR0000000000000000@AdobeOrg"
    zoho_client_id: str = "1000.EMULATORZOHOCLIENT"
    zoho_client_secret: str = "emulator-zoho-secret"
    zoho_refresh_token: str = "1000.emulator-refresh-token"


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback IP literals (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
