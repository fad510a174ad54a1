"""Runs inside the aepp venv (.bench/aepp-venv), never the project's: aepp's import time, or one base-connection
create through aepp against the emulator. Prints one JSON line.

``import``                 seconds to ``import aepp`` and ``from aepp import flowservice``;
``create URL NAME SPEC``    configure aepp for the emulator and create a base connection named NAME.

aepp has no setting for the IMS host: ``environment="support"`` takes the Platform URL from ``endpoint``, and
the token URL is then overwritten in ``aepp.config.config_object`` (what ``configure`` derives from a fixed
``https://ims-na1.adobelogin.com``). aepp sends every request with ``verify=False`` (TLS certificates are not
checked) and silences urllib3's warning about it; against the emulator's plain http this changes nothing.
"""

from __future__ import annotations

import json
import sys
import time


def main() -> None:
    if sys.argv[1] == "import":
        start = time.perf_counter()
        import aepp
        from aepp import flowservice

        print(json.dumps({"seconds": time.perf_counter() - start}))
        return
    url, name, spec_id = sys.argv[2:5]
    creds = json.loads(sys.argv[5])
    import aepp
    from aepp import flowservice

    aepp.configure(
        org_id=creds["ims_org_id"], client_id=creds["ims_client_id"], secret=creds["ims_client_secret"],
        scopes="openid,session,AdobeID,read_organizations,additional_info.projectedProductContext",
        sandbox="prod", environment="support", endpoint=url,
    )
    aepp.config.config_object["oauthTokenEndpointV2"] = f"{url}/ims/token/v3"
    flows = flowservice.FlowService()
    body = {
        "name": name,
        "description": "Base Connection for Zoho CRM",
        "auth": {"specName": "Basic Authentication", "params": creds["auth_params"]},
        "connectionSpec": {"id": spec_id, "version": "1.0"},
    }
    created = flows.createConnection(data=body)
    print(json.dumps({"id": created.get("id"), "answer_keys": sorted(created)}))


if __name__ == "__main__":
    main()
