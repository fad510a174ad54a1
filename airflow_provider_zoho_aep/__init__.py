"""Apache Airflow provider for Zoho CRM ingestion into Adobe Experience Platform (AEP).

This module stays import-light on purpose: DAG files import operators from their own modules, and the
DAG processor parses those files every few seconds.
"""

from __future__ import annotations

__version__ = "0.1.0"

#: Flow Service connection spec of the Zoho CRM source (Adobe deprecated it at the end of June 2025).
ZOHO_CRM_CONNECTION_SPEC_ID = "929e4450-0237-4ed2-9404-b7e1e0a00309"

#: Flow Service connection spec of the Data Lake target (where CRM records land as a dataset).
DATA_LAKE_CONNECTION_SPEC_ID = "c604ff05-7f1a-43c0-8e18-33bf874cb11c"

#: Flow Service connection spec of the Data Landing Zone source (files uploaded to the sandbox's landing zone);
#: Adobe names it as the replacement of the Zoho CRM source.
DATA_LANDING_ZONE_CONNECTION_SPEC_ID = "26f526f2-58f4-4712-961d-e41bf1ccc0e8"

__all__ = [
    "DATA_LAKE_CONNECTION_SPEC_ID",
    "DATA_LANDING_ZONE_CONNECTION_SPEC_ID",
    "ZOHO_CRM_CONNECTION_SPEC_ID",
    "__version__",
]
