"""Mapping entries from a dict, and what makes two mapping sets the same."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_zoho_aep.client.errors import ConfigurationError
from airflow_provider_zoho_aep.hooks.aep import fingerprint, mapping_entries

SCHEMA = "https://ns.adobe.com/t/schemas/s"


def test_entries_in_data_preps_words() -> None:
    assert mapping_entries({"Email": "personalEmail.address"}) == [
        {"sourceType": "ATTRIBUTE", "source": "Email", "destination": "personalEmail.address"}]


@pytest.mark.parametrize("mappings", [{}, None, {"": "a"}, {"a": ""}, {"a": "x", "b": "x"}, ["a"]])
def test_bad_mappings_are_refused(mappings: Any) -> None:
    with pytest.raises(ConfigurationError, match="mappings"):
        mapping_entries(mappings)


def test_fingerprint_ignores_order_and_reads_the_legacy_spelling() -> None:
    entries = mapping_entries({"a": "x", "b": "y"})
    legacy = [{"sourceType": "ATTRIBUTE", "sourceAttribute": "b", "destinationXdmPath": "y"},
              {"sourceType": "ATTRIBUTE", "sourceAttribute": "a", "destinationXdmPath": "x"}]
    assert fingerprint(SCHEMA, entries) == fingerprint(SCHEMA, legacy)
    assert fingerprint(SCHEMA, entries) != fingerprint(SCHEMA, mapping_entries({"a": "x", "b": "z"}))
    assert fingerprint(SCHEMA, entries) != fingerprint(SCHEMA + "2", entries)
