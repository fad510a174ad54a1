"""TLS verification is never turned off, and secrets never travel in a URL."""

from __future__ import annotations

import re
from pathlib import Path

import airflow_provider_zoho_aep
from airflow_provider_zoho_aep import ZOHO_CRM_CONNECTION_SPEC_ID
from airflow_provider_zoho_aep.client.http import HttpTransport
from airflow_provider_zoho_aep.hooks.aep import AdobeExperiencePlatformHook
from airflow_provider_zoho_aep.hooks.zoho_crm import ZohoCRMHook
from emulator import EmulatorCredentials

# The package that is imported (the installed wheel under make test-matrix), not a path in the checkout.
PACKAGE = Path(airflow_provider_zoho_aep.__file__).parent
_UNSAFE = re.compile(r"verify\s*=\s*False|_create_unverified_context|CERT_NONE|disable_warnings|verify_ssl\s*=\s*False")


def test_no_code_turns_tls_verification_off():
    offenders = [
        f"{path.relative_to(PACKAGE)}:{n}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if _UNSAFE.search(line)
    ]
    assert offenders == []
    assert len(list(PACKAGE.rglob("*.py"))) > 20
    assert HttpTransport().session.verify is True


def test_every_secret_travels_in_a_body_or_header_never_in_a_url(emulator):
    hook = AdobeExperiencePlatformHook()
    made = hook.create_base_connection("urls", ZOHO_CRM_CONNECTION_SPEC_ID, ZohoCRMHook().get_auth_params)
    hook.create_base_connection("urls", ZOHO_CRM_CONNECTION_SPEC_ID, ZohoCRMHook().get_auth_params,
                                if_exists="update")
    ZohoCRMHook().test_connection()
    hook.list_tables(made["id"])
    creds = EmulatorCredentials()
    secrets = {creds.ims_client_secret, creds.zoho_client_secret, creds.zoho_refresh_token}
    for request in emulator.requests:
        auth = {k.lower(): v for k, v in request.headers.items()}.get("authorization", "")
        if " " in auth:
            secrets.add(auth.split(" ", 1)[1])
    assert len(secrets) >= 5
    for request in emulator.requests:
        url = request.path + "?" + "&".join(f"{k}={v}" for k, vs in request.query.items() for v in vs)
        assert not [s for s in secrets if s in url], request.path


def test_a_self_signed_certificate_is_refused(tmp_path):
    """At runtime, over a real loopback socket: the sync transport refuses a certificate no real CA signed."""
    import ssl

    import pytest
    import requests

    from airflow_provider_zoho_aep.client.errors import AEPAPIError
    from airflow_provider_zoho_aep.client.http import RetryPolicy
    from tests.unit.client.test_async_http_runtime import self_signed, serve

    cert_file, key_file = self_signed(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server, url = serve(context)
    try:
        assert requests.get(url, verify=str(cert_file), timeout=5).status_code == 200  # the server works
        with pytest.raises(AEPAPIError, match="could not connect"):
            HttpTransport(timeout=5, retry=RetryPolicy(max_attempts=1)).request("GET", url, service="Flow Service")
        assert server.seen == 1  # the transport's request never got through the handshake
    finally:
        server.shutdown()
        server.server_close()
