"""A seeded, deterministic Zoho CRM data set, generated lazily (a million records never sit in memory).

Record ``i`` of a module is a pure function of ``(seed, module, i)``. Its ``Modified_Time`` never
decreases with ``i`` (record 0 at ``start``, the last one just before ``start + span``), so the records
of any window are one index range found by binary search; every whole hour inside the span has a record
stamped exactly on it. Records changed with :meth:`CrmDataSet.modify` are kept aside (few) and override
the generated ones.

Values are what Zoho's Bulk Read CSV shows: strings, ``""`` for an empty field, datetimes in ISO 8601
with an offset (by default ``+05:30``: Zoho writes times in a user's zone, so a client has to compare in
UTC), and text with commas, quotes, line breaks and non-ASCII letters.
"""

from __future__ import annotations

import bisect
import math
import threading
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from typing import Any

MODULES = ("Leads", "Contacts", "Accounts", "Deals")

#: module -> [(api_name, data_type)], the same columns the emulator's explore lists for Zoho CRM
FIELDS: dict[str, list[tuple[str, str]]] = {
    "Leads": [
        ("id", "bigint"),
        ("Created_Time", "datetime"),
        ("Modified_Time", "datetime"),
        ("First_Name", "text"),
        ("Last_Name", "text"),
        ("Email", "email"),
        ("Company", "text"),
        ("Lead_Status", "picklist"),
    ],
    "Contacts": [
        ("id", "bigint"),
        ("Created_Time", "datetime"),
        ("Modified_Time", "datetime"),
        ("First_Name", "text"),
        ("Last_Name", "text"),
        ("Email", "email"),
        ("Account_Name", "text"),
    ],
    "Accounts": [
        ("id", "bigint"),
        ("Created_Time", "datetime"),
        ("Modified_Time", "datetime"),
        ("Account_Name", "text"),
        ("Industry", "picklist"),
        ("Annual_Revenue", "double"),
    ],
    "Deals": [
        ("id", "bigint"),
        ("Created_Time", "datetime"),
        ("Modified_Time", "datetime"),
        ("Deal_Name", "text"),
        ("Stage", "picklist"),
        ("Amount", "double"),
        ("Closing_Date", "date"),
        ("Is_Won", "boolean"),
    ],
}

_ID_BASE = {"Leads": 5725767000001000000, "Contacts": 5725767000002000000, "Accounts": 5725767000003000000,
            "Deals": 5725767000004000000}  # fmt: skip
_ID_SPAN = 1_000_000_000  # ids of one module never reach the next module's base

_FIRST = ("Anna", "Björn", "Chloé", "Dmitri", "Émile", "Fatima", "Grace", "Hiroshi", "Iñigo", "Józef", "李", "Zoë")
_LAST = ("O'Brien", "Müller", "Smith", "Ångström", "García", "Nguyễn", "Kowalski", "王", "Dupont", "Søren")
_COMPANIES = (
    "Acme, Inc.",
    'The "Best" Widgets',
    "Müller & Söhne GmbH",
    "Line one\nLine two Ltd",
    "Plain Co",
    "Ünïcödé Corp",
    'Crème brûlée, "Ltd"\r\nParis',
    "東京商事",
)
_LEAD_STATUS = ("Not Contacted", "Attempted to Contact", "Contacted", "Junk Lead", "Pre-Qualified", "")
_INDUSTRIES = ("ASP (Application Service Provider)", "Data/Telecom OEM", "Government/Military", "Large Enterprise", "")
_STAGES = ("Qualification", "Needs Analysis", "Value Proposition", "Closed Won", "Closed Lost")

_MASK = (1 << 64) - 1


def _mix(*parts: int) -> int:
    """A 64-bit hash of integers (splitmix64 steps): fast, and the same in every process."""
    h = 0x9E3779B97F4A7C15
    for part in parts:
        h = (h ^ (part & _MASK)) * 0xBF58476D1CE4E5B9 & _MASK
        h = (h ^ (h >> 31)) * 0x94D049BB133111EB & _MASK
        h ^= h >> 29
    return h


def zoho_time(when: datetime, tz: timezone) -> str:
    """``2026-01-01T05:30:00+05:30``: Zoho's datetime format, whole seconds, with the offset."""
    return when.astimezone(tz).replace(microsecond=0).isoformat()


class CrmDataSet:
    """The records of the four modules, lazily generated.

    :param seed: changes every value (not the ``Modified_Time`` layout)
    :param records_per_module: how many records each module holds (up to 1,000,000 is fine)
    :param start: ``Modified_Time`` of record 0 (timezone-aware)
    :param span: the records' ``Modified_Time`` values lie in ``[start, start + span)``
    :param tz: the offset Zoho writes datetimes with
    """

    def __init__(
        self,
        seed: int = 7,
        records_per_module: int = 2000,
        start: datetime = datetime(2026, 1, 1, tzinfo=timezone.utc),
        span: timedelta = timedelta(days=7),
        tz: timezone = timezone(timedelta(hours=5, minutes=30)),
    ):
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        if not 0 <= records_per_module <= _ID_SPAN:
            raise ValueError("records_per_module must be between 0 and 1,000,000,000")
        if span.total_seconds() < 1:
            raise ValueError("span must be at least one second")
        self.seed = seed
        self.records_per_module = records_per_module
        self.start = start.astimezone(timezone.utc).replace(microsecond=0)
        self.span = span
        self.tz = tz
        self._start_s = int(self.start.timestamp())
        offset = tz.utcoffset(None) or timedelta(0)
        self._offset_s = int(offset.total_seconds())
        self._suffix = zoho_time(datetime(2026, 1, 1, tzinfo=tz), tz)[19:]  # "+05:30"
        self._days: dict[int, str] = {}
        self._span_s = int(span.total_seconds())
        self._lock = threading.Lock()
        #: module -> {index: (changes, modified epoch second)}
        self._modified: dict[str, dict[int, tuple[dict[str, str], int]]] = {m: {} for m in MODULES}
        self.version = 0  # bumped by every modify(), so caches of rendered results know when they are stale

    # ---- metadata -----------------------------------------------------------------------------------

    def fields(self, module: str) -> list[dict[str, Any]]:
        """Zoho's fields metadata items (``GET /crm/v8/settings/fields?module=``) of ``module``."""
        self._check_module(module)
        out = []
        for n, (api_name, data_type) in enumerate(FIELDS[module]):
            out.append(
                {
                    "api_name": api_name,
                    "field_label": "Record Id" if api_name == "id" else api_name.replace("_", " "),
                    "data_type": data_type,
                    "id": str(5725767000000100000 + MODULES.index(module) * 1000 + n),
                    "read_only": api_name in ("id", "Created_Time", "Modified_Time"),
                    "system_mandatory": api_name in ("id", "Last_Name", "Account_Name", "Deal_Name"),
                    "visible": True,
                }
            )
        return out

    def field_names(self, module: str) -> list[str]:
        self._check_module(module)
        return [name for name, _ in FIELDS[module]]

    # ---- ids and times ------------------------------------------------------------------------------

    def record_id(self, module: str, index: int) -> str:
        return str(_ID_BASE[module] + index)

    def index_of(self, module: str, record_id: str) -> int:
        """The index of a record ID of ``module``; KeyError when it is not one."""
        self._check_module(module)
        try:
            index = int(record_id) - _ID_BASE[module]
        except ValueError:
            raise KeyError(record_id) from None
        if not 0 <= index < self.records_per_module:
            raise KeyError(record_id)
        return index

    def _base_second(self, index: int) -> int:
        """Epoch second of record ``index``'s generated Modified_Time (non-decreasing in ``index``).

        Spread evenly over the span; a record whose slot passes an hour boundary is put exactly on it.
        """
        s = self._start_s + index * self._span_s // max(self.records_per_module, 1)
        if index == 0:
            return s
        prev = self._start_s + (index - 1) * self._span_s // max(self.records_per_module, 1)
        hour = s - s % 3600
        return hour if hour > prev else s

    def _format(self, second: int) -> str:
        """``zoho_time`` of an epoch second, without building datetimes (the hot path of a big export)."""
        day, rem = divmod(second + self._offset_s, 86400)
        prefix = self._days.get(day)
        if prefix is None:
            prefix = self._days[day] = (date(1970, 1, 1) + timedelta(days=day)).isoformat()
        return f"{prefix}T{rem // 3600:02d}:{rem // 60 % 60:02d}:{rem % 60:02d}{self._suffix}"

    def _first_index_at_or_after(self, second: int) -> int:
        """The smallest index whose generated Modified_Time is >= ``second`` (binary search)."""
        return bisect.bisect_left(range(self.records_per_module), second, key=self._base_second)

    # ---- records ------------------------------------------------------------------------------------

    def _generated(self, module: str, index: int) -> dict[str, str]:
        h = _mix(self.seed, MODULES.index(module), index)
        modified = self._base_second(index)
        created = modified - (h % (90 * 86400))
        first = _FIRST[h % len(_FIRST)] if h % 11 else ""  # some empty fields
        last = _LAST[(h >> 8) % len(_LAST)]
        company = _COMPANIES[(h >> 16) % len(_COMPANIES)]
        rec = {
            "id": self.record_id(module, index),
            "Created_Time": self._format(created),
            "Modified_Time": self._format(modified),
        }
        if module in ("Leads", "Contacts"):
            rec["First_Name"] = first
            rec["Last_Name"] = f"{last} {index}"
            rec["Email"] = f"person{index}.{h % 997}@example.com" if h % 7 else ""
            if module == "Leads":
                rec["Company"] = company
                rec["Lead_Status"] = _LEAD_STATUS[(h >> 24) % len(_LEAD_STATUS)]
            else:
                rec["Account_Name"] = company
        elif module == "Accounts":
            rec["Account_Name"] = f"{company} #{index}"
            rec["Industry"] = _INDUSTRIES[(h >> 24) % len(_INDUSTRIES)]
            rec["Annual_Revenue"] = f"{(h >> 32) % 10_000_000}.{(h >> 12) % 100:02d}" if h % 5 else ""
        else:
            rec["Deal_Name"] = f"{company} — deal {index}"
            rec["Stage"] = _STAGES[(h >> 24) % len(_STAGES)]
            rec["Amount"] = f"{(h >> 32) % 1_000_000}.{(h >> 12) % 100:02d}"
            closing = date(2026, 1, 1) + timedelta(days=(h >> 40) % 365)
            rec["Closing_Date"] = closing.isoformat() if h % 9 else ""
            rec["Is_Won"] = "true" if rec["Stage"] == "Closed Won" else "false"
        return rec

    def record(self, module: str, index: int) -> dict[str, str]:
        """Record ``index`` of ``module`` as it is now (with its modifications)."""
        self._check_module(module)
        rec = self._generated(module, index)
        change = self._modified[module].get(index)
        if change is not None:
            rec.update(change[0])
        return rec

    def _modified_second(self, module: str, index: int) -> int:
        change = self._modified[module].get(index)
        return change[1] if change is not None else self._base_second(index)

    def iter_records(self, module: str) -> Iterator[dict[str, str]]:
        """Every record of ``module`` in index order, with modifications applied."""
        self._check_module(module)
        for index in range(self.records_per_module):
            yield self.record(module, index)

    def indexes_modified_in(
        self,
        module: str,
        start: int,
        end: int,
        modified: dict[int, tuple[dict[str, str], int]] | None = None,
    ) -> Iterator[int]:
        """Indexes of the records whose Modified_Time (epoch seconds) is in ``[start, end)``.

        ``modified`` is a snapshot of the modifications to judge by (default: the current ones); generated
        records come first in index order, then modified ones in index order.
        """
        self._check_module(module)
        mods = self._modified[module] if modified is None else modified
        lo, hi = self._first_index_at_or_after(start), self._first_index_at_or_after(end)
        for index in range(lo, hi):
            if index not in mods:
                yield index
        for index in sorted(mods):
            if start <= mods[index][1] < end:
                yield index

    def modified_in(self, module: str, start: datetime, end: datetime) -> Iterator[dict[str, str]]:
        """The records whose Modified_Time is in the half-open window ``[start, end)``."""
        lo, hi = _ceil_second(start), _ceil_second(end)
        for index in self.indexes_modified_in(module, lo, hi):
            yield self.record(module, index)

    def count_modified_in(self, module: str, start: datetime, end: datetime) -> int:
        """How many records :meth:`modified_in` yields, without generating them."""
        self._check_module(module)
        lo, hi = _ceil_second(start), _ceil_second(end)
        base = max(0, self._first_index_at_or_after(hi) - self._first_index_at_or_after(lo))
        mods = self._modified[module]
        moved_out = sum(1 for i in mods if lo <= self._base_second(i) < hi)
        moved_in = sum(1 for _, second in mods.values() if lo <= second < hi)
        return base - moved_out + moved_in

    def snapshot_modifications(self, module: str) -> dict[int, tuple[dict[str, str], int]]:
        with self._lock:
            return dict(self._modified[module])

    def modify(
        self, module: str, record_id: str, changes: dict[str, str], modified_time: datetime | None = None
    ) -> dict[str, str]:
        """Change a record the way a CRM user would: new values and a new ``Modified_Time``.

        :param changes: field api_name -> new value (strings, as Zoho's CSV shows them); ``id`` and
            ``Modified_Time`` cannot be set here
        :param modified_time: the new Modified_Time (default: now); whole seconds count
        :return: the record as it is now
        """
        index = self.index_of(module, record_id)
        known = set(self.field_names(module))
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ValueError(f"unknown field(s) of {module}: {', '.join(unknown)}")
        if {"id", "Modified_Time"} & set(changes):
            raise ValueError("id and Modified_Time cannot be changed directly; pass modified_time")
        when = modified_time or datetime.now(timezone.utc)
        if when.tzinfo is None:
            raise ValueError("modified_time must be timezone-aware")
        second = int(when.timestamp())
        values = {k: str(v) for k, v in changes.items()}
        values["Modified_Time"] = self._format(second)
        with self._lock:
            previous = self._modified[module].get(index)
            merged = {**(previous[0] if previous else {}), **values}
            self._modified[module][index] = (merged, second)
            self.version += 1
        return self.record(module, index)

    def _check_module(self, module: str) -> None:
        if module not in FIELDS:
            raise KeyError(module)


def _ceil_second(when: datetime) -> int:
    """The first whole epoch second at or after ``when`` (Modified_Time has whole seconds)."""
    if when.tzinfo is None:
        raise ValueError("window bounds must be timezone-aware")
    return math.ceil(when.timestamp())
