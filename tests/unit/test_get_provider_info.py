"""Registration: provider info validates against Airflow's schema, Airflow discovers both connection types,
and the 3.0/3.1 form classmethods match the 3.2+ metadata."""

from __future__ import annotations

import json
import os
import subprocess
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
from airflow_provider_zoho_aep.version_compat import AIRFLOW_V_3_1_PLUS, AIRFLOW_V_3_2_PLUS

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
    if AIRFLOW_V_3_2_PLUS:  # where tasks look hooks up since 3.2; ProvidersManager.hooks is deprecated there
        from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime

        hooks = ProvidersManagerTaskRuntime().hooks
    else:
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
    """Stand-ins for wtforms/flask_appbuilder/flask_babel with only the four field classes Airflow 3.1 accepts."""

    class Field:
        def __init__(self, label, validators=(), **kwargs):
            self.label, self.validators, self.kwargs = label, list(validators), kwargs

    names = {name: type(name, (Field,), {}) for name in ("StringField", "PasswordField", "IntegerField",
                                                          "BooleanField")}
    wtforms = types.ModuleType("wtforms")
    for name, cls in names.items():
        setattr(wtforms, name, cls)
    validators = types.ModuleType("wtforms.validators")
    validators.Optional = lambda: ("optional",)
    validators.any_of = lambda values: ("any_of", tuple(values))
    validators.NumberRange = lambda min=None, max=None: ("range", min, max)
    widgets = types.ModuleType("flask_appbuilder.fieldwidgets")
    for name in ("BS3PasswordFieldWidget", "BS3TextFieldWidget"):
        setattr(widgets, name, type(name, (), {}))
    babel = types.ModuleType("flask_babel")
    babel.lazy_gettext = lambda text: text
    monkeypatch.setitem(sys.modules, "wtforms", wtforms)
    monkeypatch.setitem(sys.modules, "wtforms.validators", validators)
    monkeypatch.setitem(sys.modules, "flask_appbuilder", types.ModuleType("flask_appbuilder"))
    monkeypatch.setitem(sys.modules, "flask_appbuilder.fieldwidgets", widgets)
    monkeypatch.setitem(sys.modules, "flask_babel", babel)
    return names


def test_form_widgets_use_only_the_field_classes_airflow_3_1_accepts(fake_wtforms):
    aep = AdobeExperiencePlatformHook.get_connection_form_widgets()
    assert {k: v.label for k, v in aep.items()} == {k: v["label"] for k, v in AEP_CONN_FIELDS.items()}
    assert type(aep["timeout"]).__name__ == "IntegerField"
    assert aep["timeout"].kwargs["default"] == 30
    assert ("range", 1, 600) in aep["timeout"].validators
    zoho = ZohoCRMHook.get_connection_form_widgets()
    assert type(zoho["refresh_token"]).__name__ == "PasswordField"
    assert type(zoho["access_token"]).__name__ == "PasswordField"
    region = zoho["region"]
    assert type(region).__name__ == "StringField"
    assert ("any_of", ("us", "eu", "in", "au", "cn", "jp", "ca", "sa", "uk")) in region.validators
    assert region.kwargs["description"].endswith("One of: us, eu, in, au, cn, jp, ca, sa, uk.")
    assert set(zoho) == set(ZOHO_CONN_FIELDS)
    allowed = {"StringField", "PasswordField", "IntegerField", "BooleanField"}
    assert {type(w).__name__ for w in [*aep.values(), *zoho.values()]} <= allowed


_HOOK_META = """
import json
from airflow.api_fastapi.core_api.services.ui.connections import HookMetaService

found = {}
for meta in HookMetaService.hook_meta_data():
    if meta.connection_type in ("adobe_experience_platform", "zoho_crm"):
        found[meta.connection_type] = {
            "hook_name": meta.hook_name,
            "extra": meta.extra_fields,
            "standard": meta.standard_fields.model_dump() if meta.standard_fields else None,
        }
print("HOOK-META" + json.dumps(found))
"""


def test_the_ui_endpoint_shows_both_connection_forms_with_every_field(tmp_path):
    """What the connection page of this Airflow asks for (``GET /ui/connections/hook_meta``), in a fresh process.

    On 3.0/3.1 this builds the form from the hooks' classmethods with wtforms mocked, on 3.2+ from the
    provider-info metadata: either way, both types, every field, the region as a dropdown.
    """
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path)}
    run = subprocess.run([sys.executable, "-c", _HOOK_META], capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    found = json.loads(run.stdout.split("HOOK-META", 1)[1])
    assert set(found) == {"adobe_experience_platform", "zoho_crm"}
    aep, zoho = found["adobe_experience_platform"], found["zoho_crm"]
    assert aep["hook_name"] == "Adobe Experience Platform" and zoho["hook_name"] == "Zoho CRM"
    if not AIRFLOW_V_3_1_PLUS and not _fab_installed():
        # Airflow 3.0's endpoint mocks wtforms only when wtforms, flask_babel and flask_appbuilder are installed
        # (the FAB provider brings them); without them it shows no provider's extra fields, Airflow's own
        # included, and none of their labels either (it imports wtforms before reading any form). Both types
        # still register.
        assert aep["extra"] is None and zoho["extra"] is None
        assert aep["standard"] is None and zoho["standard"] is None
        return
    assert aep["standard"]["login"]["title"] == "Client ID"
    assert aep["standard"]["port"]["hidden"] is True
    assert set(aep["extra"]) == set(AEP_CONN_FIELDS)
    assert set(zoho["extra"]) == set(ZOHO_CONN_FIELDS)
    assert zoho["extra"]["region"]["schema"]["enum"] == ["us", "eu", "in", "au", "cn", "jp", "ca", "sa", "uk"]
    assert aep["extra"]["timeout"]["value"] == 30
    for name in ("refresh_token", "access_token"):
        assert zoho["extra"][name]["schema"]["format"] == "password"


def _fab_installed() -> bool:
    from importlib.util import find_spec

    return all(find_spec(name) for name in ("wtforms", "flask_babel", "flask_appbuilder"))


@pytest.mark.parametrize("entry", get_provider_info()["connection-types"], ids=lambda e: e["connection-type"])
def test_the_registered_hook_class_itself_defines_the_form_methods(entry):
    """Airflow 3.0/3.1 take ``get_connection_form_widgets`` / ``get_ui_field_behaviour`` only from the
    registered class's own ``__dict__`` (not from a base class), so a form defined only on a base hook is lost."""
    import importlib

    module, name = entry["hook-class-name"].rsplit(".", 1)
    hook = getattr(importlib.import_module(module), name)
    assert "get_connection_form_widgets" in hook.__dict__
    assert "get_ui_field_behaviour" in hook.__dict__


def test_every_placeholder_names_a_field_airflow_shows():
    """Airflow prefixes a placeholder key that is not a standard field with ``extra__<type>__``; one that is
    not a conn-field either (``description`` was) then matches no field and never shows."""
    standard = {"host", "schema", "login", "password", "port", "extra"}
    for entry in get_provider_info()["connection-types"]:
        for key in entry["ui-field-behaviour"]["placeholders"]:
            assert key in standard | set(entry["conn-fields"]), (entry["connection-type"], key)


def test_secret_fields_are_named_so_airflows_masker_hides_them():
    try:  # 3.1+; the old path warns there
        from airflow.sdk._shared.secrets_masker import should_hide_value_for_key
    except ImportError:
        from airflow.sdk.execution_time.secrets_masker import should_hide_value_for_key

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
