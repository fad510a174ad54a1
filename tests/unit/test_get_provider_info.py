"""Registration: provider info validates against Airflow's schema, Airflow discovers both connection types,
and the 3.0/3.1 form classmethods match the 3.2+ metadata."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import airflow
import jsonschema
import pytest

from airflow_provider_zoho_aep.get_provider_info import (
    AEP_CONN_FIELDS,
    ZOHO_CONN_FIELDS,
    get_provider_info,
)
from airflow_provider_zoho_aep.hooks.aep import AdobeExperiencePlatformHook
from airflow_provider_zoho_aep.hooks.zoho_crm import ZohoCRMHook

AIRFLOW_DIR = Path(airflow.__file__).parent


def test_provider_info_validates_against_airflows_runtime_schema():
    schema = json.loads((AIRFLOW_DIR / "provider_info.schema.json").read_text())
    jsonschema.validate(get_provider_info(), schema)
    assert get_provider_info()["package-name"] == "airflow-provider-zoho-aep"


def test_conn_fields_validate_against_the_declarative_form_schema():
    schema = json.loads((AIRFLOW_DIR / "provider.yaml.schema.json").read_text())
    item = schema["properties"]["connection-types"]["items"]
    jsonschema.validate(get_provider_info()["connection-types"], {"type": "array", "items": item,
                                                                 "definitions": schema.get("definitions", {})})


def test_airflow_discovers_both_connection_types():
    from airflow.providers_manager import ProvidersManager

    manager = ProvidersManager()
    assert "airflow-provider-zoho-aep" in manager.providers
    hooks = manager.hooks
    assert hooks["adobe_experience_platform"].hook_class_name.endswith("AdobeExperiencePlatformHook")
    assert hooks["zoho_crm"].hook_class_name.endswith("ZohoCRMHook")
    assert hooks["adobe_experience_platform"].hook_name == "Adobe Experience Platform"
    assert hooks["adobe_experience_platform"].connection_testable


@pytest.mark.parametrize(("hook", "info_index"), [(AdobeExperiencePlatformHook, 0), (ZohoCRMHook, 1)])
def test_hook_attributes_match_provider_info(hook, info_index):
    entry = get_provider_info()["connection-types"][info_index]
    assert hook.conn_type == entry["connection-type"]
    assert hook.hook_name == entry["hook-name"]
    assert f"{hook.__module__}.{hook.__name__}" == entry["hook-class-name"]
    behaviour = hook.get_ui_field_behaviour()
    assert behaviour["hidden_fields"] == entry["ui-field-behaviour"]["hidden-fields"]
    assert behaviour["relabeling"] == entry["ui-field-behaviour"]["relabeling"]


@pytest.fixture
def fake_wtforms(monkeypatch):
    """Minimal stand-ins for wtforms/flask_appbuilder/flask_babel, as Airflow 3.0/3.1 mock them."""

    class Field:
        def __init__(self, label, **kwargs):
            self.label, self.kwargs = label, kwargs

    names = {"StringField": Field, "PasswordField": type("PasswordField", (Field,), {}),
             "SelectField": type("SelectField", (Field,), {}), "FloatField": type("FloatField", (Field,), {})}
    wtforms = types.ModuleType("wtforms")
    for name, cls in names.items():
        setattr(wtforms, name, cls)
    widgets = types.ModuleType("flask_appbuilder.fieldwidgets")
    for name in ("BS3PasswordFieldWidget", "BS3TextFieldWidget", "Select2Widget"):
        setattr(widgets, name, type(name, (), {}))
    babel = types.ModuleType("flask_babel")
    babel.lazy_gettext = lambda text: text
    monkeypatch.setitem(sys.modules, "wtforms", wtforms)
    monkeypatch.setitem(sys.modules, "flask_appbuilder", types.ModuleType("flask_appbuilder"))
    monkeypatch.setitem(sys.modules, "flask_appbuilder.fieldwidgets", widgets)
    monkeypatch.setitem(sys.modules, "flask_babel", babel)
    return names


def test_form_widgets_match_conn_fields(fake_wtforms):
    aep = AdobeExperiencePlatformHook.get_connection_form_widgets()
    assert {k: v.label for k, v in aep.items()} == {k: v["label"] for k, v in AEP_CONN_FIELDS.items()}
    assert type(aep["timeout"]).__name__ == "FloatField"
    zoho = ZohoCRMHook.get_connection_form_widgets()
    assert type(zoho["refresh_token"]).__name__ == "PasswordField"
    assert type(zoho["access_token"]).__name__ == "PasswordField"
    assert [c[0] for c in zoho["region"].kwargs["choices"]] == ["", "us", "eu", "in", "au", "cn", "jp", "ca", "sa",
                                                               "uk"]
    assert set(zoho) == set(ZOHO_CONN_FIELDS)


def test_secret_fields_are_named_so_airflows_masker_hides_them():
    from airflow.sdk._shared.secrets_masker import should_hide_value_for_key

    # The provider's own fields, as Airflow reads them: every field shown as a password is a secret, and
    # Airflow's masker hides a Connection's extra value by its key name, so each such key must be one it hides.
    info = get_provider_info()
    secret_fields = {(conn["connection-type"], key) for conn in info["connection-types"]
                     for key, field in conn["conn-fields"].items() if field["schema"].get("format") == "password"}
    assert secret_fields == {("zoho_crm", "refresh_token"), ("zoho_crm", "access_token")}
    for _, key in secret_fields:
        assert should_hide_value_for_key(key), f"Airflow's masker would show extra.{key} in clear"
    for conn in info["connection-types"]:  # the Connection's own password is the client secret of both
        assert "password" not in conn["ui-field-behaviour"]["hidden-fields"]


def test_extra_links_import_and_are_on_the_run_operator():
    from importlib import import_module

    from airflow_provider_zoho_aep.get_provider_info import get_provider_info
    from airflow_provider_zoho_aep.operators.dataflow_run import AEPRunDataflowOperator

    def import_string(path: str) -> type:
        module, name = path.rsplit(".", 1)
        return getattr(import_module(module), name)

    links = [import_string(path) for path in get_provider_info()["extra-links"]]
    assert [link.name for link in links] == ["AEP dataflow", "AEP dataflow run"]
    assert {type(link) for link in AEPRunDataflowOperator.operator_extra_links} == set(links)
