"""OpenLineage datasets of a dataflow, named as OpenLineage's conventions name warehouses: the Zoho CRM module
read (namespace ``zohocrm://<CRM API host>``, name ``Leads``) and the AEP dataset written (``aep://<IMS org ID>``,
``<sandbox>.<dataset ID>``). Without the OpenLineage provider :func:`operator_lineage` returns None.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from logging import Logger

    from airflow_provider_zoho_aep.hooks.aep import AdobeExperiencePlatformHook


@dataclass(frozen=True)
class LineageDataset:
    namespace: str
    name: str


def zoho_module_dataset(endpoint: str | None, module: str) -> LineageDataset:
    host = urlsplit(endpoint or "").netloc or "unknown"
    return LineageDataset(f"zohocrm://{host}", module)


def aep_dataset(ims_org_id: str, sandbox: str, dataset_id: str) -> LineageDataset:
    return LineageDataset(f"aep://{ims_org_id}", f"{sandbox}.{dataset_id}")


def dataflow_lineage(
    hook: AdobeExperiencePlatformHook, flow_id: str
) -> tuple[list[LineageDataset], list[LineageDataset]]:
    """Read the dataflow's source and target connections and name what it moves."""
    flow = hook.get_dataflow(flow_id)
    inputs, outputs = [], []
    for source_id in flow.get("sourceConnectionIds") or []:
        source = hook.get_source_connection(source_id)
        module = (source.get("params") or {}).get("tableName")
        if not module:
            continue
        endpoint = None
        if source.get("baseConnectionId"):
            base = hook.get_base_connection(source["baseConnectionId"])
            endpoint = ((base.get("auth") or {}).get("params") or {}).get("endpoint")
        inputs.append(zoho_module_dataset(endpoint, module))
    settings = hook.settings
    for target_id in flow.get("targetConnectionIds") or []:
        target = hook.get_target_connection(target_id)
        dataset_id = (target.get("params") or {}).get("dataSetId")
        if dataset_id:
            outputs.append(aep_dataset(settings.ims_org_id, settings.sandbox_name, dataset_id))
    return inputs, outputs


def operator_lineage(inputs: list[LineageDataset], outputs: list[LineageDataset]) -> Any:
    """An ``OperatorLineage`` of OpenLineage datasets, or None when the OpenLineage provider is not installed."""
    try:
        from airflow.providers.common.compat.openlineage.facet import Dataset
        from airflow.providers.openlineage.extractors import OperatorLineage
    except ImportError:
        return None
    return OperatorLineage(
        inputs=[Dataset(namespace=d.namespace, name=d.name) for d in inputs],
        outputs=[Dataset(namespace=d.namespace, name=d.name) for d in outputs],
    )


def dataflow_task_lineage(
    log: Logger | Any, aep_conn_id: str, flow_id: str, *, zoho_conn_id: str | None = None, module: str | None = None
) -> Any:
    """The ``OperatorLineage`` of a task that runs ``flow_id``: what the dataflow reads (or ``module`` of
    ``zoho_conn_id`` when the task exported it) and the dataset it writes. Best effort: a failed read logs a
    warning and returns None, so lineage never fails the ingestion.
    """
    from airflow_provider_zoho_aep.hooks.aep import AdobeExperiencePlatformHook

    try:
        inputs, outputs = dataflow_lineage(AdobeExperiencePlatformHook(aep_conn_id=aep_conn_id), flow_id)
        if zoho_conn_id is not None:
            from airflow_provider_zoho_aep.hooks.zoho_crm import ZohoCRMHook

            endpoint = ZohoCRMHook(zoho_conn_id=zoho_conn_id).validate_connection().endpoint
            inputs = [zoho_module_dataset(endpoint, str(module))]
    except Exception:
        log.warning("Could not read the dataflow's connections for OpenLineage", exc_info=True)
        return None
    return operator_lineage(inputs, outputs)
