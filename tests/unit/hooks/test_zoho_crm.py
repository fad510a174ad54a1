"""ZohoCRMHook: the zoho_crm Connection as settings, tokens, the six auth params, the Test button, and the page
writer (a Bulk Read zip → exactly the rows of the window, in the user's columns)."""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import responses
from responses import matchers

from airflow_provider_zoho_aep.client.errors import AEPAPIError, ConfigurationError
from airflow_provider_zoho_aep.client.http import RetryPolicy
from airflow_provider_zoho_aep.client.windows import Window
from airflow_provider_zoho_aep.get_provider_info import ZOHO_UI_FIELD_BEHAVIOUR
from airflow_provider_zoho_aep.hooks import zoho_crm
from airflow_provider_zoho_aep.hooks.zoho_crm import (
    ZohoCRMHook,
    in_window,
    parse_expiry,
    query_bounds,
    write_page,
    zoho_datetime,
)
from airflow_provider_zoho_aep.validation import check_export_arguments
from tests.conftest import set_connection
from tests.unit.conftest import messages

ZOHO_SECRET = "zoho-client-secret"
REFRESH = "1000.refresh-token-value"
STORED_ACCESS = "1000.stored-access-token"
ZOHO_CONN = {
    "conn_type": "zoho_crm",
    "login": "1000.CLIENTID",
    "password": ZOHO_SECRET,
    "host": "https://www.zohoapis.eu",
    "extra": {"accounts_url": "https://accounts.zoho.eu", "refresh_token": REFRESH},
}
TOKEN_URL = "https://accounts.zoho.eu/oauth/v2/token"
USERS_URL = "https://www.zohoapis.eu/crm/v8/users"


@pytest.fixture
def zoho_conn(monkeypatch: pytest.MonkeyPatch) -> str:
    set_connection(monkeypatch, "zoho_unit", ZOHO_CONN)
    return "zoho_unit"


@pytest.fixture
def hook(zoho_conn: str) -> ZohoCRMHook:
    return ZohoCRMHook(zoho_conn_id=zoho_conn)


class TestSettings:
    def test_validated_and_every_secret_masked(self, monkeypatch: pytest.MonkeyPatch) -> None:
        set_connection(monkeypatch, "zoho_unit", {**ZOHO_CONN, "extra": {**ZOHO_CONN["extra"],
                                                                          "access_token": STORED_ACCESS}})
        with mock.patch("airflow_provider_zoho_aep.hooks.zoho_crm._mask") as mask:
            settings = ZohoCRMHook(zoho_conn_id="zoho_unit").validate_connection()
        assert (settings.client_id, settings.endpoint, settings.accounts_url, settings.region) == (
            "1000.CLIENTID", "https://www.zohoapis.eu", "https://accounts.zoho.eu", "eu")
        assert mask.call_args_list == [mock.call(ZOHO_SECRET), mock.call(REFRESH), mock.call(STORED_ACCESS)]

    def test_a_region_alone_gives_both_urls(self, monkeypatch: pytest.MonkeyPatch) -> None:
        set_connection(monkeypatch, "zoho_unit", {**ZOHO_CONN, "host": None,
                                                  "extra": {"region": "in", "refresh_token": REFRESH}})
        settings = ZohoCRMHook(zoho_conn_id="zoho_unit").validate_connection()
        assert (settings.endpoint, settings.accounts_url) == ("https://www.zohoapis.in", "https://accounts.zoho.in")

    @pytest.mark.parametrize(("region", "warned"), [("jp", True), ("eu", False)])
    def test_a_data_centre_outside_adobes_list_is_a_warning(
        self, monkeypatch: pytest.MonkeyPatch, logs: Any, region: str, warned: bool
    ) -> None:
        set_connection(monkeypatch, "zoho_unit", {**ZOHO_CONN, "host": None,
                                                  "extra": {"region": region, "refresh_token": REFRESH}})
        ZohoCRMHook(zoho_conn_id="zoho_unit").validate_connection()
        warnings = [line for line in messages(logs, "warning") if "Zoho data centre" in line]
        assert bool(warnings) is warned
        if warned:
            assert f"Zoho data centre '{region}' is not among the five" in warnings[0]

    @pytest.mark.parametrize(("override", "field"), [
        ({"login": ""}, "login (Client ID)"),
        ({"password": None}, "password (Client Secret)"),
        ({"extra": {"accounts_url": "https://accounts.zoho.eu"}}, "extra.refresh_token"),
        ({"extra": {"region": "mars", "refresh_token": REFRESH}}, "extra.region"),
    ])
    def test_a_bad_connection_names_the_field(
        self, monkeypatch: pytest.MonkeyPatch, override: dict[str, Any], field: str
    ) -> None:
        set_connection(monkeypatch, "zoho_bad", {**ZOHO_CONN, **override})
        with pytest.raises(ConfigurationError) as raised:
            ZohoCRMHook(zoho_conn_id="zoho_bad").validate_connection()
        assert raised.value.field == field
        assert raised.value.source == "Airflow Connection 'zoho_bad' (Zoho CRM)"
        assert ZOHO_SECRET not in str(raised.value) and REFRESH not in str(raised.value)

    def test_urls_of_two_data_centres_are_refused(self, monkeypatch: pytest.MonkeyPatch) -> None:
        set_connection(monkeypatch, "zoho_bad", {**ZOHO_CONN, "host": "https://www.zohoapis.com"})
        with pytest.raises(ConfigurationError, match="Zoho CRM"):
            ZohoCRMHook(zoho_conn_id="zoho_bad").validate_connection()

    def test_an_unknown_bulk_read_option_is_refused(self) -> None:
        with pytest.raises(ConfigurationError) as raised:
            ZohoCRMHook(bulk_read_options={"poll_intervall": 1})
        assert raised.value.field == "bulk_read_options" and "'poll_intervall'" in str(raised.value)


class TestTransport:
    def test_built_with_the_hooks_timeout_and_a_short_retry(self, zoho_conn: str) -> None:
        with mock.patch("requests.Session.request") as request:
            transport = ZohoCRMHook(zoho_conn_id=zoho_conn, timeout=7).get_conn()
        request.assert_not_called()
        assert transport.timeout == 7
        assert transport.retry == RetryPolicy(max_attempts=3, max_total_seconds=60)
        assert transport.session.stream is True  # a result zip is read in chunks, never whole
        assert {ZOHO_SECRET, REFRESH} <= transport.secrets  # scrubbed from any error text


class TestTokens:
    @pytest.mark.parametrize(("body", "fragment"), [
        ({"error": "invalid_code"}, "revoked or invalid"),
        ({"error": "invalid_client"}, "data centre"),
        ({"error": "Access Denied", "error_description": "You have made too many requests continuously.",
          "status": "failure"}, "throttling"),
        ({}, "no access_token"),
    ])
    @responses.activate
    def test_token_errors_arrive_with_http_200_and_are_not_retried(
        self, hook: ZohoCRMHook, body: dict[str, Any], fragment: str
    ) -> None:
        responses.post(TOKEN_URL, json=body, status=200)
        with pytest.raises(AEPAPIError) as info:
            hook.refresh_access_token()
        assert fragment in str(info.value) and len(responses.calls) == 1
        assert ZOHO_SECRET not in str(info.value) and REFRESH not in str(info.value)

    @responses.activate
    def test_refresh_posts_a_form_masks_the_token_and_caches_it_for_every_hook(self, zoho_conn: str) -> None:
        form = matchers.urlencoded_params_matcher({"grant_type": "refresh_token", "client_id": "1000.CLIENTID",
                                                   "client_secret": ZOHO_SECRET, "refresh_token": REFRESH})
        responses.post(TOKEN_URL, match=[form, matchers.query_string_matcher("")],
                       json={"access_token": "1000.acc", "expires_in": 3600, "api_domain": "https://www.zohoapis.eu"})
        with mock.patch("airflow_provider_zoho_aep.hooks.zoho_crm._mask") as mask:
            assert ZohoCRMHook(zoho_conn_id=zoho_conn).get_access_token() == "1000.acc"
        assert mock.call("1000.acc") in mask.call_args_list
        assert ZohoCRMHook(zoho_conn_id=zoho_conn).get_access_token(refresh_access_token=False) == "1000.acc"
        assert len(responses.calls) == 1  # cached in the process, no second refresh

    @responses.activate
    def test_without_a_cached_token_the_stored_one_is_used(self, monkeypatch: pytest.MonkeyPatch) -> None:
        set_connection(monkeypatch, "zoho_unit", {**ZOHO_CONN, "extra": {**ZOHO_CONN["extra"],
                                                                          "access_token": STORED_ACCESS}})
        assert ZohoCRMHook(zoho_conn_id="zoho_unit").get_access_token(refresh_access_token=False) == STORED_ACCESS
        assert len(responses.calls) == 0

    def test_expiry_shapes(self) -> None:
        assert parse_expiry({"expires_in": 3600}) == 3600
        assert parse_expiry({"expires_in": 3_600_000}) == 3600
        assert parse_expiry({"expires_in_sec": 3600, "expires_in": 3_600_000}) == 3600
        assert parse_expiry({}) == 3600


class TestAuthParams:
    @pytest.mark.parametrize("refresh", [True, False])
    def test_the_six_params_of_aeps_zoho_spec(self, hook: ZohoCRMHook, refresh: bool) -> None:
        with mock.patch.object(ZohoCRMHook, "get_access_token", return_value="1000.minted") as get:
            params = hook.get_auth_params(refresh_access_token=refresh)
        assert params == {
            "endpoint": "https://www.zohoapis.eu",
            "accountsUrl": "https://accounts.zoho.eu",
            "clientId": "1000.CLIENTID",
            "clientSecret": ZOHO_SECRET,
            "accessToken": "1000.minted",
            "refreshToken": REFRESH,
        }
        get.assert_called_once_with(refresh)

    @responses.activate
    def test_a_token_error_propagates(self, hook: ZohoCRMHook) -> None:
        responses.post(TOKEN_URL, json={"error": "invalid_code"})
        with pytest.raises(AEPAPIError) as raised:
            hook.get_auth_params()
        assert raised.value.code == "invalid_code"

    @responses.activate
    def test_a_bad_connection_fails_before_any_token_call(self, monkeypatch: pytest.MonkeyPatch) -> None:
        set_connection(monkeypatch, "zoho_bad", {**ZOHO_CONN, "extra": {}})
        with pytest.raises(ConfigurationError, match=r"extra\.refresh_token"):
            ZohoCRMHook(zoho_conn_id="zoho_bad").get_auth_params()
        assert len(responses.calls) == 0


class TestTestConnection:
    @pytest.mark.parametrize(("user", "who"), [
        ({"email": "ada@example.com", "full_name": "Ada", "id": "1"}, "ada@example.com"),
        ({"full_name": "Ada", "id": "1"}, "Ada"),
        ({"id": "1"}, "1"),
        ({}, "the token owner"),
    ])
    @responses.activate
    def test_success_names_the_user(self, hook: ZohoCRMHook, user: dict[str, Any], who: str) -> None:
        responses.post(TOKEN_URL, json={"access_token": "1000.fresh", "expires_in": 3600})
        match = [matchers.query_param_matcher({"type": "CurrentUser"}),
                 matchers.header_matcher({"Authorization": "Zoho-oauthtoken 1000.fresh"})]
        users = responses.get(USERS_URL, match=match, json={"users": [user]})
        assert hook.test_connection() == (
            True, f"Refreshed a Zoho access token at https://accounts.zoho.eu and read the CRM user {who}.")
        assert users.call_count == 1

    @pytest.mark.parametrize("step", ["refresh", "current_user"])
    @responses.activate
    def test_an_api_error_fails_with_its_text(self, hook: ZohoCRMHook, step: str) -> None:
        responses.post(TOKEN_URL, json={"error": "invalid_client"} if step == "refresh" else {"access_token": "1.a"})
        responses.get(USERS_URL, status=401, json={"code": "OAUTH_SCOPE_MISMATCH", "message": "invalid oauth scope"})
        ok, message = hook.test_connection()
        assert ok is False
        assert ("data centre" if step == "refresh" else "OAUTH_SCOPE_MISMATCH") in message

    def test_a_bad_connection_fails_with_the_field(self, monkeypatch: pytest.MonkeyPatch) -> None:
        set_connection(monkeypatch, "zoho_bad", {**ZOHO_CONN, "extra": {}})
        ok, message = ZohoCRMHook(zoho_conn_id="zoho_bad").test_connection()
        assert ok is False
        assert "extra.refresh_token: is missing" in message

    @pytest.mark.parametrize("policy", [None, RetryPolicy(max_attempts=5)])
    @responses.activate
    def test_a_person_waiting_gets_a_short_retry_policy_unless_one_is_given(
        self, zoho_conn: str, policy: RetryPolicy | None
    ) -> None:
        responses.post(TOKEN_URL, json={"access_token": "1000.fresh"})
        responses.get(USERS_URL, json={"users": [{}]})
        hook = ZohoCRMHook(zoho_conn_id=zoho_conn, retry_policy=policy)
        hook.test_connection()
        assert hook.transport.retry == (policy or RetryPolicy(max_attempts=2, max_total_seconds=10))


def test_field_behaviour_is_the_provider_info_in_snake_case() -> None:
    behaviour = ZohoCRMHook.get_ui_field_behaviour()
    assert behaviour == {key.replace("-", "_"): value for key, value in ZOHO_UI_FIELD_BEHAVIOUR.items()}
    assert behaviour["relabeling"]["host"] == "CRM API endpoint"


# ---- the query and the download link ------------------------------------------------------------------------

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)


def test_zoho_datetime_is_utc_whole_seconds_with_offset() -> None:
    ist = timezone(timedelta(hours=5, minutes=30))
    assert zoho_datetime(datetime(2026, 1, 1, 5, 30, 0, 999_999, tzinfo=ist)) == "2026-01-01T00:00:00+00:00"


@pytest.mark.parametrize(
    ("start", "end", "lower", "upper"),
    [
        (T0, T0 + timedelta(hours=1), "2025-12-31T23:59:59+00:00", "2026-01-01T01:00:00+00:00"),
        (T0 + timedelta(seconds=0.5), T0 + timedelta(seconds=10.2), "2025-12-31T23:59:59+00:00",
         "2026-01-01T00:00:11+00:00"),
    ],
)  # fmt: skip
def test_query_is_one_second_wider_than_the_window(start: datetime, end: datetime, lower: str, upper: str) -> None:
    """greater_equal lower / less_equal upper hold every record of the window whether Zoho's comparators
    include their bound or not: lower is at least a second before the first whole second of the window, upper
    is the first whole second at or after the end."""
    assert query_bounds(Window(start, end)) == (lower, upper)


def test_download_links_stay_on_the_endpoint() -> None:
    link = zoho_crm._link_path
    assert link("https://www.zohoapis.com", "/crm/bulk/v8/read/1/result") == "/crm/bulk/v8/read/1/result"
    assert link("https://www.zohoapis.com", "crm/bulk/v8/read/1/result?k=1") == "/crm/bulk/v8/read/1/result?k=1"
    assert link("https://www.zohoapis.com", "https://www.zohoapis.com/x?k=1") == "/x?k=1"
    with pytest.raises(AEPAPIError, match="outside"):
        link("https://www.zohoapis.com", "https://evil.example.com/x")
    with pytest.raises(AEPAPIError, match="outside"):
        link("https://www.zohoapis.com", "https://www.zohoapis.com.evil.example/x")
    with pytest.raises(AEPAPIError, match="no download_url"):
        link("https://www.zohoapis.com", "")


BAD = [
    ("module", dict(module="")),
    ("module", dict(module="Le ads")),
    ("module", dict(module=3)),
    ("window_start", dict(start=datetime(2026, 1, 1))),
    ("window_end", dict(end=datetime(2026, 1, 2))),
    ("window_start", dict(start="yesterday")),
    ("window_end", dict(end=T0)),
    ("window_end", dict(end=T0 - timedelta(seconds=1))),
    ("window_end", dict(end=NOW + timedelta(seconds=1))),
    ("fields", dict(fields="Last_Name")),
    ("fields", dict(fields=[])),
    ("fields", dict(fields=["ok", ""])),
    ("out_dir", dict(out_dir="")),
    ("out_dir", dict(out_dir=None)),
]


@pytest.mark.parametrize(("field", "change"), BAD, ids=[f"{f}-{i}" for i, (f, _) in enumerate(BAD)])
def test_export_arguments_are_checked_naming_the_field(field: str, change: dict) -> None:
    args = {"module": "Leads", "start": T0, "end": T0 + timedelta(hours=1), "fields": None, "out_dir": "/tmp/x"}
    args.update(change)
    with pytest.raises(ConfigurationError) as info:
        check_export_arguments(args["module"], args["start"], args["end"], args["fields"], args["out_dir"], now=NOW)
    assert info.value.field == field
    assert "Fix:" in str(info.value)


def test_good_arguments_give_the_window_in_utc() -> None:
    ist = timezone(timedelta(hours=5, minutes=30))
    window = check_export_arguments("Leads", T0.astimezone(ist), T0 + timedelta(hours=1), ["Email"], "/tmp", now=NOW)
    assert window == Window(T0, T0 + timedelta(hours=1))
    assert window.start.tzinfo == timezone.utc


# ---- the page writer ----------------------------------------------------------------------------------------

UTC = timezone.utc
IST = timezone(timedelta(hours=5, minutes=30))
START = datetime(2026, 1, 1, 10, tzinfo=UTC)
END = datetime(2026, 1, 1, 11, tzinfo=UTC)
WINDOW = Window(START, END)
COLUMNS = ["id", "Modified_Time", "Name", "Note"]
AWKWARD = ["plain", "a, b", 'say "hi"', "line one\nline two", "crlf\r\nnext", "", "Müller 東京", '"', "x\n\n\ny"]


def stamp(when: datetime, tz: timezone = UTC) -> str:
    return when.astimezone(tz).replace(microsecond=0).isoformat()


def rows_around_window(count: int = 400, tz: timezone = UTC) -> list[list[str]]:
    """Records every 20 s from 10 s before the window: the first and last fall outside it."""
    out = []
    for i in range(count):
        when = START - timedelta(seconds=10) + timedelta(seconds=20 * i)
        out.append([str(9000 + i), stamp(when, tz if i % 3 else UTC), AWKWARD[i % len(AWKWARD)], AWKWARD[(i * 7) % 9]])
    out.append(["1", stamp(START, IST), "on the start", ""])  # exactly the start, another offset: in
    out.append(["2", stamp(END, IST), "on the end", ""])  # exactly the end: out
    out.append(["3", stamp(END - timedelta(seconds=1)), "last second", ""])
    return out


def make_zip(path: Path, header: list[str], rows: list[list[str]], *, bom: bool = False, newline: str = "\r\n",
             method: int = zipfile.ZIP_DEFLATED) -> Path:  # fmt: skip
    text = io.StringIO()
    writer = csv.writer(text, lineterminator=newline)
    writer.writerow(header)
    writer.writerows(rows)
    with zipfile.ZipFile(path, "w", method) as archive:
        archive.writestr("123.csv", (b"\xef\xbb\xbf" if bom else b"") + text.getvalue().encode())
    return path


def expected(rows: list[list[str]], header: list[str], columns: list[str]) -> list[list[str]]:
    at = header.index("Modified_Time")
    keep = [r for r in rows if START <= datetime.fromisoformat(r[at]) < END]
    return [[r[header.index(c)] for c in columns] for r in keep]


def read_back(path: str) -> tuple[list[str], list[list[str]]]:
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def write(source: Path, out: Path, columns: list[str] = COLUMNS, window: Window = WINDOW) -> dict[str, Any] | None:
    with open(source, "rb") as zip_file:
        return write_page(zip_file, columns, window, str(out))


@pytest.mark.parametrize("tz", [UTC, IST], ids=["utc", "ist"])
def test_the_page_holds_exactly_the_window(tmp_path: Path, tz: timezone) -> None:
    rows = rows_around_window(tz=tz)
    page = write(make_zip(tmp_path / "p.zip", COLUMNS, rows), tmp_path / "out.csv")
    assert page is not None
    header, got = read_back(page["path"])
    assert header == COLUMNS
    want = expected(rows, COLUMNS, COLUMNS)
    assert got == want
    assert page["records"] == len(want) == 182  # 180 of the 20-second records, the start, the last second
    data = Path(page["path"]).read_bytes()
    assert page["bytes"] == len(data) and page["sha256"] == hashlib.sha256(data).hexdigest()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv", "p.zip"]


def test_a_page_inside_the_window_comes_out_as_zoho_wrote_it(tmp_path: Path) -> None:
    """Zoho's CSV is RFC 4180 with CRLF, as the writer's: a page wholly inside the window is the same bytes."""
    rows = [r for r in rows_around_window() if START <= datetime.fromisoformat(r[1]) < END]
    source = make_zip(tmp_path / "p.zip", COLUMNS, rows)
    page = write(source, tmp_path / "out.csv")
    assert page is not None
    with zipfile.ZipFile(source) as archive:
        assert Path(page["path"]).read_bytes() == archive.read("123.csv")


def test_bom_and_lf_line_ends_are_read(tmp_path: Path) -> None:
    rows = rows_around_window(60)
    page = write(make_zip(tmp_path / "p.zip", COLUMNS, rows, bom=True, newline="\n"), tmp_path / "out.csv")
    assert page is not None
    assert read_back(page["path"]) == (COLUMNS, expected(rows, COLUMNS, COLUMNS))
    assert Path(page["path"]).read_bytes().startswith(b"id,Modified_Time,Name,Note\r\n")  # no BOM, CRLF


def test_the_columns_come_in_the_order_asked_whatever_zohos_order(tmp_path: Path) -> None:
    header = ["Note", "Modified_Time", "Name", "Extra", "id"]
    rows = [[r[3], r[1], r[2], "x", r[0]] for r in rows_around_window(80)]
    columns = ["Name", "id", "Note", "Modified_Time"]
    page = write(make_zip(tmp_path / "p.zip", header, rows), tmp_path / "out.csv", columns)
    assert page is not None
    assert read_back(page["path"]) == (columns, expected(rows, header, columns))


def test_no_record_in_the_window_leaves_no_file(tmp_path: Path) -> None:
    rows = [[str(i), stamp(END + timedelta(minutes=i)), "late", ""] for i in range(5)]
    assert write(make_zip(tmp_path / "p.zip", COLUMNS, rows), tmp_path / "out.csv") is None
    assert list(tmp_path.iterdir()) == [tmp_path / "p.zip"]


def test_a_truncated_zip_is_a_broken_download_and_leaves_nothing(tmp_path: Path) -> None:
    source = make_zip(tmp_path / "p.zip", COLUMNS, rows_around_window())
    data = source.read_bytes()
    source.write_bytes(data[: len(data) // 2])
    with pytest.raises(zoho_crm._DownloadBroken):
        write(source, tmp_path / "out.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.zip"]


@pytest.mark.parametrize(("victim", "into"), [(b"abc", b"x"), (b"abc", b'"')], ids=["still-csv", "no-longer-csv"])
def test_a_flipped_byte_fails_the_crc(tmp_path: Path, victim: bytes, into: bytes) -> None:
    """Whether the damage still parses as CSV or not, it is a broken download (fetched again), never a file. The
    damage is in the first row of a large member: parsed long before the CRC is checked at the member's end."""
    rows = [["1", stamp(START), "abc", "def"], *([str(i), stamp(START), "z" * 50, ""] for i in range(5000))]
    source = make_zip(tmp_path / "p.zip", COLUMNS, rows, method=zipfile.ZIP_STORED)
    data = bytearray(source.read_bytes())
    data[data.index(victim)] = ord(into)
    source.write_bytes(bytes(data))
    with pytest.raises(zoho_crm._DownloadBroken, match="CRC"):
        write(source, tmp_path / "out.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.zip"]


@pytest.mark.parametrize(("header", "rows", "error"), [
    (["Modified_Time", "id"], [[stamp(START), "1"]], "lacks the column"),
    (COLUMNS, [["1", stamp(START), "a"]], "has 3 columns, the header 4"),
    ([], [], "no header"),
])  # fmt: skip
def test_a_page_of_another_shape_is_an_error(tmp_path: Path, header: list[str], rows: list, error: str) -> None:
    with pytest.raises(AEPAPIError, match=error):
        write(make_zip(tmp_path / "p.zip", header, rows), tmp_path / "out.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.zip"]


def test_a_result_that_ends_inside_a_quoted_field_is_an_error(tmp_path: Path) -> None:
    source = tmp_path / "p.zip"
    with zipfile.ZipFile(source, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("1.csv", f'id,Modified_Time,Name,Note\r\n1,{stamp(START)},abc,"open\r\n')
    with pytest.raises(AEPAPIError, match="not well-formed"):
        write(source, tmp_path / "out.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.zip"]


def test_a_zip_without_one_csv_is_an_error(tmp_path: Path) -> None:
    source = tmp_path / "p.zip"
    with zipfile.ZipFile(source, "w") as archive:
        archive.writestr("a.csv", "id\r\n")
        archive.writestr("b.csv", "id\r\n")
    with pytest.raises(AEPAPIError, match="holds 2 CSV files"):
        write(source, tmp_path / "out.csv")


@pytest.mark.parametrize(
    ("value", "inside"),
    [
        ("2026-01-01T10:00:00+00:00", True),
        ("2026-01-01T15:30:00+05:30", True),  # the start, written in IST
        ("2026-01-01T09:59:59+00:00", False),
        ("2026-01-01T10:59:59Z", True),
        ("2026-01-01T11:00:00+00:00", False),
        ("2026-01-01T16:30:00+05:30", False),  # the end, written in IST
        ("2026-01-01T06:00:00-04:00", True),
        ("2026-01-01T10:30:00+01:00", False),  # its digits are inside, its instant is not
        ("2026-01-01 10:30:00+00:00", True),  # a space for the T
        ("2026-01-01T10:30:00.500+00:00", True),
    ],
)
def test_each_time_is_judged_as_an_instant_in_utc(value: str, inside: bool) -> None:
    assert in_window(value, WINDOW) is inside


def test_fractional_bounds() -> None:
    window = Window(START + timedelta(seconds=0.5), END + timedelta(seconds=0.5))
    assert in_window("2026-01-01T10:00:00+00:00", window) is False  # before 10:00:00.5
    assert in_window("2026-01-01T10:00:01+00:00", window) is True
    assert in_window("2026-01-01T11:00:00+00:00", window) is True  # before 11:00:00.5
    assert in_window("2026-01-01T11:00:01+00:00", window) is False


@pytest.mark.parametrize(("value", "error"), [
    ("yesterday", "not ISO 8601"),
    ("2026-01-01T10:3x:00+00:00", "not ISO 8601"),
    ("2026/01/01T10:30:00+00:00", "not ISO 8601"),
    ("2026-01-01T10:30:00+00:00x", "not ISO 8601"),
    ("2026-01-01T10:30:00", "without an offset"),
])  # fmt: skip
def test_a_time_zoho_would_not_write_is_an_error_and_leaves_no_file(tmp_path: Path, value: str, error: str) -> None:
    with pytest.raises(AEPAPIError, match=error):
        in_window(value, WINDOW)
    rows = [[str(i), stamp(START + timedelta(seconds=7 * i)), "", ""] for i in range(60)]
    rows[31][1] = value
    with pytest.raises(AEPAPIError, match=error):
        write(make_zip(tmp_path / "p.zip", COLUMNS, rows), tmp_path / "out.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.zip"]
