"""Apache Airflow provider for Zoho CRM ingestion into Adobe Experience Platform (AEP); import-light, since
the DAG processor parses DAG files every few seconds."""

from __future__ import annotations

import re
import sys

__version__ = "0.1.0"

#: The oldest Airflow this provider runs on: the oldest patch release ``make test-matrix`` proves.
AIRFLOW_FLOOR = (3, 0, 6)


def airflow_version_tuple(version: str) -> tuple[int, int, int]:
    """``(major, minor, micro)`` of an Airflow version string such as ``3.1.8`` or ``3.2.0rc1``."""
    found = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?", version)
    if not found:
        raise RuntimeError(f"airflow-provider-zoho-aep cannot read the Airflow version {version!r}")
    major, minor, micro = found.groups()
    return int(major), int(minor), int(micro or 0)


def check_airflow_floor(version: str) -> None:
    """Raise a RuntimeError naming both versions when ``version`` is older than :data:`AIRFLOW_FLOOR`."""
    if airflow_version_tuple(version) < AIRFLOW_FLOOR:
        floor = ".".join(map(str, AIRFLOW_FLOOR))
        raise RuntimeError(
            f"airflow-provider-zoho-aep needs Apache Airflow {floor} or newer, but Airflow {version} is "
            f"installed. Upgrade Airflow (pip install 'apache-airflow>={floor}') or pin an older provider."
        )

# Too old an Airflow fails at package import, but only when Airflow is loaded already: the plain-Python client
# layer stays importable without it (``version_compat`` checks as well).
_airflow_version = getattr(sys.modules.get("airflow"), "__version__", None)
if isinstance(_airflow_version, str):
    check_airflow_floor(_airflow_version)

#: Flow Service connection spec of the Zoho CRM source (Adobe deprecated it at the end of June 2025).
ZOHO_CRM_CONNECTION_SPEC_ID = "929e4450-0237-4ed2-9404-b7e1e0a00309"

#: Flow Service connection spec of the Data Lake target (where CRM records land as a dataset).
DATA_LAKE_CONNECTION_SPEC_ID = "c604ff05-7f1a-43c0-8e18-33bf874cb11c"

#: Flow Service connection spec of the Data Landing Zone source (files uploaded to the sandbox's landing zone);
#: Adobe names it as the replacement of the Zoho CRM source.
DATA_LANDING_ZONE_CONNECTION_SPEC_ID = "26f526f2-58f4-4712-961d-e41bf1ccc0e8"

#: ``data.schema.version`` of a Data Lake target connection, and the schema content type of a mapping set.
DEFAULT_SCHEMA_VERSION = "application/vnd.adobe.xed-full+json;version=1"

# Flow Service collections: the path segment of each resource's URL.
BASE_CONNECTIONS = "connections"
SOURCE_CONNECTIONS = "sourceConnections"
TARGET_CONNECTIONS = "targetConnections"
FLOWS = "flows"
RUNS = "runs"

__all__ = [
    "AIRFLOW_FLOOR",
    "BASE_CONNECTIONS",
    "DATA_LAKE_CONNECTION_SPEC_ID",
    "DATA_LANDING_ZONE_CONNECTION_SPEC_ID",
    "DEFAULT_SCHEMA_VERSION",
    "FLOWS",
    "RUNS",
    "SOURCE_CONNECTIONS",
    "TARGET_CONNECTIONS",
    "ZOHO_CRM_CONNECTION_SPEC_ID",
    "__version__",
    "airflow_version_tuple",
    "check_airflow_floor",
]
