"""OpenLineage names of a dataflow's datasets, with and without the OpenLineage provider."""

from __future__ import annotations

import builtins
from typing import Any
from unittest import mock

import pytest

from airflow_provider_zoho_aep import lineage
from airflow_provider_zoho_aep.client.settings import AEPSettings


def hook() -> mock.MagicMock:
    fake = mock.MagicMock()
    fake.settings = AEPSettings("c", "s", "ORG@AdobeOrg", sandbox_name="dev")
    fake.get_dataflow.return_value = {"sourceConnectionIds": ["s1"], "targetConnectionIds": ["t1"]}
    fake.get_source_connection.return_value = {"baseConnectionId": "b1", "params": {"tableName": "Deals"}}
    fake.get_base_connection.return_value = {"auth": {"params": {"endpoint": "https://www.zohoapis.eu",
                                                                 "clientSecret": "<masked>"}}}
    fake.get_target_connection.return_value = {"params": {"dataSetId": "ds1"}}
    return fake


def test_names_follow_the_namespace_and_path_pattern() -> None:
    inputs, outputs = lineage.dataflow_lineage(hook(), "f1")
    assert inputs == [lineage.LineageDataset("zohocrm://www.zohoapis.eu", "Deals")]
    assert outputs == [lineage.LineageDataset("aep://ORG@AdobeOrg", "dev.ds1")]


def test_operator_lineage_with_the_provider() -> None:
    pytest.importorskip("airflow.providers.openlineage")
    result = lineage.operator_lineage([lineage.LineageDataset("zohocrm://h", "Leads")],
                                      [lineage.LineageDataset("aep://o", "prod.d")])
    assert [(d.namespace, d.name) for d in result.inputs] == [("zohocrm://h", "Leads")]
    assert [(d.namespace, d.name) for d in result.outputs] == [("aep://o", "prod.d")]


def test_without_the_provider_it_is_none(monkeypatch: pytest.MonkeyPatch) -> None:
    real = builtins.__import__

    def blocked(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("airflow.providers.openlineage"):
            raise ImportError(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", blocked)
    assert lineage.operator_lineage([], []) is None
