"""Base connections: create, list filters and paging, masking, PATCH with etags, delete, test, explore."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from emulator import Emulator

ZOHO_SPEC = "929e4450-0237-4ed2-9404-b7e1e0a00309"


def test_create_connection(api, emu: Emulator) -> None:
    answer = api.post("/connections", api.connection_body())
    assert answer.status_code == 201
    body = answer.json()
    assert set(body) == {"id", "etag"}
    assert body["etag"].startswith('"') and body["etag"].endswith('"')
    assert answer.headers["Location"] == f"/data/foundation/flowservice/connections/{body['id']}"

    stored = emu.store.connections[body["id"]]
    assert stored["state"] == "enabled"
    assert stored["sandboxName"] == "prod"
    assert stored["imsOrgId"] == emu.credentials.ims_org_id
    assert stored["version"] == stored["etag"] == body["etag"]
    assert stored["createdAt"] > 1_600_000_000_000  # epoch ms
    assert stored["auth"]["params"]["clientSecret"] == emu.credentials.zoho_client_secret


def test_same_name_creates_a_second_connection(api, emu: Emulator) -> None:
    first, second = api.create_connection("dup"), api.create_connection("dup")
    assert first != second
    assert len(emu.store.connections) == 2


@pytest.mark.parametrize(
    ("changes", "code", "words"),
    [
        ({"name": ""}, "FLOW-1400-400", "name"),
        ({"extra": 1}, "FLOW-1400-400", "extra"),
        ({"state": "enabled"}, "FLOW-1400-400", "state"),
        (
            {"connectionSpec": {"id": "00000000-0000-0000-0000-000000000000", "version": "1.0"}},
            "FLOW-1413-400",
            "not valid",
        ),
        ({"auth": {"specName": "OAuth 2 Refresh Code", "params": {}}}, "FLOW-1415-400", "Auth spec"),
    ],
)
def test_create_connection_rejections(api, changes: dict, code: str, words: str) -> None:
    answer = api.post("/connections", api.connection_body(**changes))
    assert answer.status_code == 400
    assert api.code(answer) == code
    assert words in answer.json()["report"]["detailed-message"]


def test_auth_param_errors_name_keys_never_values(api, emu: Emulator) -> None:
    params = api.zoho_params()
    del params["refreshToken"]
    missing = api.post("/connections", api.connection_body(auth={"specName": "Basic Authentication", "params": params}))
    assert missing.status_code == 400
    assert "refreshToken" in missing.json()["report"]["detailed-message"]
    assert emu.credentials.zoho_client_secret not in missing.text

    not_string = api.post(
        "/connections",
        api.connection_body(
            auth={"specName": "Basic Authentication", "params": {**api.zoho_params(), "clientSecret": 42}}
        ),
    )
    assert not_string.status_code == 400
    assert "clientSecret" in not_string.json()["report"]["detailed-message"]


def test_generic_source_spec(api) -> None:
    body = api.connection_body(
        connectionSpec={"id": "6f3c2a1b-0d4e-4c8a-9b7f-e11a0c5d2b90", "version": "1.0"},
        auth={"specName": "Basic Authentication", "params": {"username": "u", "password": "p"}},
    )
    conn_id = api.created_id(api.post("/connections", body))
    item = api.get(f"/connections/{conn_id}").json()["items"][0]
    assert item["auth"]["params"] == {"username": "u", "password": "<masked>"}


def test_get_wraps_items_and_masks_secrets(api, emu: Emulator) -> None:
    conn_id = api.create_connection()
    answer = api.get(f"/connections/{conn_id}")
    assert answer.status_code == 200
    items = answer.json()["items"]
    assert len(items) == 1
    params = items[0]["auth"]["params"]
    assert params["clientId"] == emu.credentials.zoho_client_id
    assert params["clientSecret"] == params["refreshToken"] == params["accessToken"] == "<masked>"
    assert emu.credentials.zoho_client_secret not in answer.text
    assert emu.credentials.zoho_refresh_token not in answer.text
    # the list view masks too, and a trailing slash is accepted
    listed = api.get("/connections/")
    assert emu.credentials.zoho_client_secret not in listed.text
    assert listed.json()["items"][0]["id"] == conn_id


def test_get_missing_or_other_sandbox_is_404(api) -> None:
    conn_id = api.create_connection()
    missing = api.get("/connections/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404
    assert api.code(missing) == "FLOW-1439-404"
    assert missing.json()["report"]["type"] == "connections"
    other = api.get(f"/connections/{conn_id}", headers=api.headers(x_sandbox_name="dev"))
    assert other.status_code == 404


def test_list_filters(api) -> None:
    alpha = api.create_connection("alpha")
    beta = api.create_connection("beta two")
    api.create_connection("gamma")

    def names(*filters: str) -> list[str]:
        answer = api.get("/connections", params=[("property", f) for f in filters])
        assert answer.status_code == 200, answer.text
        return [item["name"] for item in answer.json()["items"]]

    assert names("name==alpha") == ["alpha"]
    assert names('name=="beta two"') == ["beta two"]  # quoted, URL-encoded by requests
    assert names("name==alpha,gamma") == ["alpha", "gamma"]  # comma = OR
    assert names("name==alpha", f"connectionSpec.id=={ZOHO_SPEC}") == ["alpha"]  # AND
    assert names("name==alpha", "connectionSpec.id==other") == []
    assert names(f"id=={beta}") == ["beta two"]
    assert names("state==enabled") == ["alpha", "beta two", "gamma"]
    assert names("name!=alpha") == ["beta two", "gamma"]
    assert alpha

    ordered = api.get("/connections", params={"orderby": "-name"}).json()["items"]
    assert [i["name"] for i in ordered] == ["gamma", "beta two", "alpha"]
    # other sandboxes see nothing
    assert api.get("/connections", headers=api.headers(x_sandbox_name="dev")).json()["items"] == []


def test_list_paging_and_count(api) -> None:
    created = {api.create_connection(f"conn-{i:02d}") for i in range(25)}

    first = api.get("/connections", params={"property": "state==enabled"}).json()
    assert len(first["items"]) == 20  # default page size
    href = first["_links"]["next"]["href"]
    assert href.startswith("/connections?continuationToken=")
    query = parse_qs(urlsplit(href).query)
    assert query["property"] == ["state==enabled"]  # other parameters are carried over
    second = api.get("/connections", params=query).json()
    assert len(second["items"]) == 5
    assert "_links" not in second
    assert {i["id"] for i in first["items"] + second["items"]} == created

    seen, params, pages = [], {"limit": "10"}, 0
    while True:
        page = api.get("/connections", params=params).json()
        pages += 1
        seen += [i["id"] for i in page["items"]]
        if "next" not in page.get("_links", {}):
            break
        params = parse_qs(urlsplit(page["_links"]["next"]["href"]).query)
        assert pages < 10
    assert pages == 3
    assert sorted(seen) == sorted(created)

    count = api.get("/connections", params={"count": "true", "property": "name==conn-01,conn-02"})
    assert count.json() == {"count": 2}
    both = api.get("/connections", params={"count": "true", "limit": "5"})
    assert both.status_code == 400
    assert api.code(both) == "FLOW-1401-400"
    bad_token = api.get("/connections", params={"continuationToken": "garbage!"})
    assert bad_token.status_code == 400


def test_patch_etag_rules(api, emu: Emulator) -> None:
    created = api.post("/connections", api.connection_body()).json()
    path, etag = f"/connections/{created['id']}", created["etag"]
    rename = [{"op": "replace", "path": "/name", "value": "renamed"}]

    missing = api.patch(path, rename, etag=None)
    assert missing.status_code == 400
    assert api.code(missing) == "FLOW-1403-400"

    stale = api.patch(path, rename, etag='"stale"')
    assert stale.status_code == 412
    assert api.code(stale) == "FLOW-1404-412"

    before = emu.store.connections[created["id"]]["updatedAt"]
    ok = api.patch(path, [*rename, {"op": "replace", "path": "/auth/params/clientSecret", "value": "new-s"}], etag=etag)
    assert ok.status_code == 200, ok.text
    assert ok.json()["id"] == created["id"]
    new_etag = ok.json()["etag"]
    assert new_etag != etag
    stored = emu.store.connections[created["id"]]
    assert stored["name"] == "renamed"
    assert stored["auth"]["params"]["clientSecret"] == "new-s"
    assert stored["updatedAt"] >= before
    assert api.get(path).json()["items"][0]["etag"] == new_etag
    assert api.patch(path, rename, etag=etag).status_code == 412  # the old etag is stale now


@pytest.mark.parametrize(
    ("operations", "code"),
    [
        ([{"op": "replace", "path": "/connectionSpec/id", "value": "x"}], "FLOW-1414-400"),
        ([{"op": "replace", "path": "/state", "value": "disabled"}], "FLOW-1400-400"),
        ([{"op": "replace", "path": "/auth/params/clientSecret", "value": "<masked>"}], "FLOW-1400-400"),
        ([{"op": "remove", "path": "/auth/params/refreshToken"}], "FLOW-1400-400"),
        ({"op": "replace", "path": "/name", "value": "not an array"}, "FLOW-1400-400"),
    ],
)
def test_patch_rejections(api, operations: object, code: str) -> None:
    created = api.post("/connections", api.connection_body()).json()
    answer = api.patch(f"/connections/{created['id']}", operations, etag=created["etag"])
    assert answer.status_code == 400, answer.text
    assert api.code(answer) == code


def test_delete_connection(api, emu: Emulator) -> None:
    conn_id = api.create_connection()
    answer = api.delete(f"/connections/{conn_id}")
    assert answer.status_code == 204
    assert answer.content == b""
    assert api.get(f"/connections/{conn_id}").status_code == 404
    again = api.delete(f"/connections/{conn_id}")
    assert again.status_code == 404
    assert api.code(again) == "FLOW-1439-404"
    assert emu.store.connections == {}


def test_connection_test_checks_zoho_credentials(api) -> None:
    good = api.create_connection()
    bad = api.created_id(
        api.post(
            "/connections",
            api.connection_body(
                auth={"specName": "Basic Authentication", "params": api.zoho_params(clientSecret="wrong")}
            ),
        )
    )
    assert api.get(f"/connections/{good}/test").json() == {"result": True}
    assert api.get(f"/connections/{bad}/test").json() == {"result": False}


def test_explore(api) -> None:
    conn_id = api.create_connection()
    root = api.get(f"/connections/{conn_id}/explore", params={"objectType": "root"}).json()
    assert isinstance(root, list)
    assert {"type": "table", "name": "Leads", "path": "Leads", "canPreview": True, "canFetchSchema": True} in root
    assert {t["path"] for t in root} >= {"Leads", "Contacts", "Accounts", "Deals"}

    table = api.get(f"/connections/{conn_id}/explore", params={"objectType": "table", "object": "Leads"}).json()
    assert table["format"] == "flat"
    columns = {c["name"]: c for c in table["schema"]["columns"]}
    assert columns["Modified_Time"]["meta"] == {"originalType": "datetime"}
    assert columns["Modified_Time"]["xdm"] == {"type": "string", "format": "date-time"}
    assert "data" not in table

    params = {"objectType": "table", "object": "Leads", "preview": "true", "previewCount": "3"}
    preview = api.get(f"/connections/{conn_id}/explore", params=params).json()
    assert len(preview["data"]) == 3
    assert set(preview["data"][0]) == set(columns)
    assert api.get(f"/connections/{conn_id}/explore", params=params).json() == preview  # deterministic

    unknown = api.get(f"/connections/{conn_id}/explore", params={"objectType": "table", "object": "Nope"})
    assert unknown.status_code == 404
    assert api.get(f"/connections/{conn_id}/explore").status_code == 400


def test_connection_specs_and_retirement(api, emu: Emulator) -> None:
    spec = api.get(f"/connectionSpecs/{ZOHO_SPEC}").json()["items"][0]
    assert spec["name"] == "zoho-crm"
    auth = spec["authSpec"][0]
    assert auth["name"] == "Basic Authentication"
    assert set(auth["spec"]["required"]) == {
        "endpoint",
        "accountsUrl",
        "clientId",
        "clientSecret",
        "accessToken",
        "refreshToken",
    }
    assert auth["spec"]["properties"]["refreshToken"]["format"] == "password"
    by_name = api.get("/connectionSpecs", params={"property": "name==zoho-crm"}).json()["items"]
    assert [s["id"] for s in by_name] == [ZOHO_SPEC]

    emu.retire_connection_spec(ZOHO_SPEC)
    gone = api.get(f"/connectionSpecs/{ZOHO_SPEC}")
    assert gone.status_code == 404
    assert api.code(gone) == "FLOW-1101-404"
    assert api.get("/connectionSpecs", params={"property": "name==zoho-crm"}).json()["items"] == []
    create = api.post("/connections", api.connection_body())
    assert create.status_code == 400
    assert api.code(create) == "FLOW-1413-400"
    flow_spec = api.get("/flowSpecs", params={"property": 'name=="CRMToAEP"'}).json()["items"][0]
    assert ZOHO_SPEC not in flow_spec["sourceConnectionSpecIds"]
