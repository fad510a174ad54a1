"""The emulated Data Landing Zone over raw HTTP: credentials, the blob endpoint's SAS/MD5/condition rules (and
Microsoft's SDK against it), mapping sets, DLZ source connections, CloudStorageToAEP flows and the control API."""

from __future__ import annotations

import base64
import hashlib
import io
from typing import Any

import requests

from emulator import Emulator
from tests.emulator.conftest import DATASET_ID, SCHEMA_ID, Api

DLZ = "/data/foundation/connectors/landingzone"
DLZ_SPEC = "26f526f2-58f4-4712-961d-e41bf1ccc0e8"
CLOUD_STORAGE = "9753525b-82c7-4dce-8a9b-5ccfce2b9876"


def credentials(api: Api, refresh: bool = False) -> dict[str, Any]:
    params = {"type": "user_drop_zone", **({"action": "refresh"} if refresh else {})}
    answer = api.session.request("POST" if refresh else "GET", f"{api.emu.url}{DLZ}/credentials", params=params,
                                 headers=api.headers(), timeout=5)
    assert answer.status_code == 200, answer.text
    return answer.json()


def blob_url(creds: dict[str, Any], name: str, query: str = "") -> str:
    base, token = creds["SASUri"].split("?", 1)
    return f"{base}/{name}?{token}{query}"


def test_credentials_need_the_gateway_headers_and_a_refresh_revokes_the_old_sas(api: Api) -> None:
    url = f"{api.emu.url}{DLZ}/credentials?type=user_drop_zone"
    assert requests.get(url, timeout=5).status_code == 403
    zone = api.session.get(f"{api.emu.url}{DLZ}?type=user_drop_zone", headers=api.headers(), timeout=5).json()
    assert zone == {"containerName": "dlz-user-container", "containerTTL": "7"}
    first = credentials(api)
    assert first["SASToken"].startswith("sv=2020-04-08&si=dlz-") and "&sig=" in first["SASToken"]
    assert credentials(api)["SASToken"] == first["SASToken"]  # GET hands out the same valid token
    put = {"x-ms-blob-type": "BlockBlob"}
    assert requests.put(blob_url(first, "a.csv"), data=b"x", headers=put, timeout=5).status_code == 201
    fresh = credentials(api, refresh=True)
    assert fresh["SASToken"] != first["SASToken"]
    refused = requests.put(blob_url(first, "b.csv"), data=b"x", headers=put, timeout=5)
    assert (refused.status_code, refused.headers["x-ms-error-code"]) == (403, "AuthenticationFailed")
    assert requests.put(blob_url(fresh, "b.csv"), data=b"x", headers=put, timeout=5).status_code == 201


def test_blob_endpoint_checks_md5_conditions_and_reports_properties(api: Api, emu: Emulator) -> None:
    creds = credentials(api)
    data = b"id,Email\n1,a@x.com\n"
    md5 = base64.b64encode(hashlib.md5(data).digest()).decode()
    put = {"x-ms-blob-type": "BlockBlob", "If-None-Match": "*"}
    wrong = requests.put(blob_url(creds, "z/a.csv"), data=data, headers={**put, "Content-MD5": md5[::-1]}, timeout=5)
    assert (wrong.status_code, wrong.headers["x-ms-error-code"]) in ((400, "Md5Mismatch"), (400, "InvalidMd5"))
    made = requests.put(blob_url(creds, "z/a.csv"), data=data, headers={**put, "Content-MD5": md5}, timeout=5)
    assert made.status_code == 201
    again = requests.put(blob_url(creds, "z/a.csv"), data=data, headers=put, timeout=5)
    assert (again.status_code, again.headers["x-ms-error-code"]) == (409, "BlobAlreadyExists")
    stale = requests.put(blob_url(creds, "z/a.csv"), data=b"new", timeout=5,
                         headers={"x-ms-blob-type": "BlockBlob", "If-Match": '"0xOLD"'})
    assert stale.status_code == 412
    head = requests.head(blob_url(creds, "z/a.csv"), timeout=5)
    assert head.headers["Content-Length"] == str(len(data)) and head.headers["Content-MD5"] == md5
    assert head.headers["ETag"] == made.headers["ETag"] and head.headers["Last-Modified"].endswith("GMT")
    assert requests.get(blob_url(creds, "z/a.csv"), timeout=5).content == data
    listing = requests.get(blob_url(creds, "", "&restype=container&comp=list&prefix=z/"), timeout=5).text
    assert "<Name>z/a.csv</Name>" in listing
    assert requests.head(blob_url(creds, "z/none.csv"), timeout=5).status_code == 404


def test_blocks_are_committed_in_list_order(api: Api) -> None:
    creds = credentials(api)
    ids = [base64.b64encode(f"block-{i}".encode()).decode() for i in range(3)]
    for block_id, part in zip(ids, (b"a", b"b", b"c"), strict=True):
        answer = requests.put(blob_url(creds, "blocks.csv", f"&comp=block&blockid={block_id}"), data=part, timeout=5)
        assert answer.status_code == 201
    assert requests.head(blob_url(creds, "blocks.csv"), timeout=5).status_code == 404  # nothing visible yet
    staged = requests.get(blob_url(creds, "blocks.csv", "&comp=blocklist&blocklisttype=uncommitted"), timeout=5)
    assert staged.text.count("<Block>") == 3
    body = "<?xml version='1.0'?><BlockList>" + "".join(f"<Latest>{i}</Latest>" for i in ids[::-1]) + "</BlockList>"
    assert requests.put(blob_url(creds, "blocks.csv", "&comp=blocklist"), data=body, timeout=5).status_code == 201
    assert requests.get(blob_url(creds, "blocks.csv"), timeout=5).content == b"cba"


def test_microsofts_sdk_works_against_the_blob_endpoint(api: Api) -> None:
    from azure.storage.blob import ContainerClient, ContentSettings

    uri = credentials(api)["SASUri"]
    container = ContainerClient.from_container_url(uri)
    container.upload_blob("sdk/one.csv", b"id\n1\n")  # single-shot Put Blob
    in_blocks = ContainerClient.from_container_url(uri, max_single_put_size=64 * 1024, max_block_size=64 * 1024)
    in_blocks.upload_blob("sdk/two.csv", b"x" * 300_000, max_concurrency=3)  # Put Block x 5, Put Block List
    assert sorted(b.name for b in container.list_blobs(name_starts_with="sdk/")) == ["sdk/one.csv", "sdk/two.csv"]
    assert container.download_blob("sdk/two.csv").readall() == b"x" * 300_000
    assert container.get_blob_client("sdk/one.csv").get_blob_properties().size == 5
    # validate_content: the SDK checks the Content-MD5 of each answer against its request (the commit's is the
    # block list's, as Azure answers, not the blob's); a wrong one would fail the commit and retry it into a 409.
    in_blocks.upload_blob("sdk/three.csv", io.BytesIO(b"y" * 300_000), max_concurrency=3, validate_content=True,
                          content_settings=ContentSettings(content_md5=bytearray(hashlib.md5(b"y" * 300_000).digest())))
    assert container.download_blob("sdk/three.csv").readall() == b"y" * 300_000


def test_mapping_sets_need_paging_parameters_and_a_schema(api: Api) -> None:
    base = f"{api.emu.url}/data/foundation/conversion/mappingSets"
    body = {"outputSchema": {"schemaRef": {"id": SCHEMA_ID, "contentType": "x"}},
            "mappings": [{"sourceType": "ATTRIBUTE", "source": "id", "destination": "_t.id"}]}
    made = api.session.post(base, json=body, headers=api.headers(), timeout=5).json()
    assert len(made["id"]) == 32 and made["version"] == 0
    assert api.session.get(base, headers=api.headers(), timeout=5).status_code == 400
    listed = api.session.get(f"{base}?limit=10&start=0", headers=api.headers(), timeout=5).json()
    assert [m["id"] for m in listed["data"]] == [made["id"]]
    assert api.session.post(base, json={**body, "outputSchema": {}}, headers=api.headers(), timeout=5
                            ).status_code == 400


def dlz_source(api: Api, **changes: Any) -> requests.Response:
    body = {"name": "dlz", "data": {"format": "delimited", "properties": {"columnDelimiter": ","}},
            "params": {"path": "dlz-user-container/zoho/Leads/", "type": "folder", "recursive": True},
            "connectionSpec": {"id": DLZ_SPEC, "version": "1.0"}, **changes}
    return api.post("/sourceConnections", body)


def create_mapping_set(api: Api, mappings: dict[str, str]) -> str:
    """A mapping set of ``{source column: XDM path}`` onto the test schema; returns its ID."""
    answer = api.session.post(
        f"{api.emu.url}/data/foundation/conversion/mappingSets", headers=api.headers(), timeout=5,
        json={"outputSchema": {"schemaRef": {"id": SCHEMA_ID}},
              "mappings": [{"sourceType": "ATTRIBUTE", "source": source, "destination": destination}
                           for source, destination in mappings.items()]})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["id"])


def test_dlz_source_connections_take_no_base_connection_and_a_container_path(api: Api) -> None:
    assert dlz_source(api).status_code == 201
    assert dlz_source(api, baseConnectionId="b").status_code == 400
    assert dlz_source(api, params={"path": "other-container/x/"}).status_code == 400
    assert dlz_source(api, data={"format": "tabular"}).status_code == 400


def test_cloud_storage_flows_take_a_known_mapping_and_no_copy(api: Api, emu: Emulator) -> None:
    source = api.created_id(dlz_source(api))
    target = api.created_id(api.post("/targetConnections", api.target_body()))
    mapping = create_mapping_set(api, {"id": "_t.id"})
    flow = api.flow_body(source, target, flowSpec={"id": CLOUD_STORAGE, "version": "1.0"},
                         scheduleParams={"startTime": 1_700_000_000, "frequency": "once"})
    assert api.post("/flows", flow).status_code == 400  # the CRM body's Copy step
    only_mapping = [{"name": "Mapping", "params": {"mappingId": mapping, "mappingVersion": 0}}]
    unknown = [{"name": "Mapping", "params": {"mappingId": "nope", "mappingVersion": 0}}]
    assert api.post("/flows", {**flow, "transformations": unknown}).status_code == 400
    assert api.post("/flows", {**flow, "transformations": only_mapping}).status_code == 201
    crm_source = api.create_pipeline()["source"]
    assert api.post("/flows", {**flow, "name": "x", "sourceConnectionIds": [crm_source],
                               "transformations": only_mapping}).status_code == 400
    spec = api.get("/flowSpecs?property=name==CloudStorageToAEP").json()["items"]
    assert [s["id"] for s in spec] == [CLOUD_STORAGE] and spec[0]["sourceConnectionSpecIds"] == [DLZ_SPEC]


def test_control_api_switches_and_datasets(api: Api, emu: Emulator) -> None:
    control = f"{emu.url}/__emulator__"
    assert requests.get(f"{control}/datasets/{DATASET_ID}", timeout=5).json() == {"batches": []}
    assert requests.post(f"{control}/config", json={"mapping_errors": 2, "landing_zone_provider": "Amazon S3"},
                         timeout=5).status_code == 200
    assert emu.store.dlz.mapping_errors == 2 and emu.store.dlz.provider == "Amazon S3"
    s3 = api.session.get(f"{emu.url}{DLZ}?type=user_drop_zone", headers=api.headers(), timeout=5).json()
    assert s3["dlzProvider"] == "Amazon S3"
    assert requests.post(f"{control}/config", json={"landing_zone_provider": "GCS"}, timeout=5).status_code == 400
    requests.post(f"{control}/config", json={"landing_zone_provider": "Azure", "expire_sas_tokens": True}, timeout=5)
    old = credentials(api)
    requests.post(f"{control}/config", json={"expire_sas_tokens": True}, timeout=5)
    assert requests.head(blob_url(old, "x"), timeout=5).status_code == 403
    assert credentials(api)["SASToken"] != old["SASToken"]  # an expired token is replaced on GET


def test_a_file_run_lands_its_rows_once_and_reports_the_same_metrics_on_every_read(api: Api, emu: Emulator) -> None:
    creds = credentials(api)
    data = "id,Email\n1,a@x.com\n2,\"b, \"\"q\"\"\"@x.com\n3,ü@x.com\n".encode()
    assert requests.put(blob_url(creds, "zoho/Leads/w.csv"), data=data, timeout=5,
                        headers={"x-ms-blob-type": "BlockBlob"}).status_code == 201
    stamp = emu.store.dlz.blobs.blobs["zoho/Leads/w.csv"].last_modified_seconds
    source = api.created_id(dlz_source(api))
    target = api.created_id(api.post("/targetConnections", api.target_body()))
    mapping = create_mapping_set(api, {"id": "_t.id", "Email": "_t.email"})
    flow = api.created_id(api.post("/flows", api.flow_body(
        source, target, flowSpec={"id": CLOUD_STORAGE, "version": "1.0"},
        scheduleParams={"startTime": 1_700_000_000, "frequency": "once"},
        transformations=[{"name": "Mapping", "params": {"mappingId": mapping, "mappingVersion": 0}}])))
    emu.store.run_duration = 0.0
    run_id = api.created_id(api.post("/runs", {"flowId": flow, "params": {
        "startTime": stamp + 1, "windowStartTime": stamp, "windowEndTime": stamp + 1}}))

    views = [api.get(f"/runs/{run_id}").json()["items"][0]["metrics"] for _ in range(2)]
    listed = [r["metrics"] for r in api.get(f"/runs?property=flowId=={flow}").json()["items"] if r["id"] == run_id]
    assert views[0] == views[1] == listed[0]
    assert views[0]["recordSummary"]["outputRecordCount"] == 3 and views[0]["recordSummary"]["inputRecordCount"] == 3
    assert views[0]["sizeSummary"]["outputBytes"] > 0
    batches = requests.get(f"{emu.url}/__emulator__/datasets/{DATASET_ID}", timeout=5).json()["batches"]
    assert [r["_t"] for b in batches for r in b["rows"]] == [
        {"id": "1", "email": "a@x.com"}, {"id": "2", "email": 'b, "q"@x.com'}, {"id": "3", "email": "ü@x.com"}]
    assert emu.store.runs[run_id]["_files"]["rows"] == []  # the rows live in the dataset only
