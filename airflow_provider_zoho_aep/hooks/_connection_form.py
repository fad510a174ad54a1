"""The connection forms Airflow 3.0/3.1 read from the hooks, built from :mod:`..get_provider_info`'s dicts (what
3.2+ reads), so the two cannot drift apart. wtforms is imported only when Airflow asks for the form."""

from __future__ import annotations

from typing import Any


def form_widgets(conn_fields: dict[str, Any]) -> dict[str, Any]:
    """wtforms fields for ``conn_fields``, only of the classes Airflow 3.1 accepts (it drops a hook whose form
    uses another): password → PasswordField, number → IntegerField, an enum → StringField with ``any_of`` (the UI
    shows a dropdown), the rest → StringField."""
    from flask_appbuilder.fieldwidgets import BS3PasswordFieldWidget, BS3TextFieldWidget
    from flask_babel import lazy_gettext
    from wtforms import IntegerField, PasswordField, StringField
    from wtforms.validators import NumberRange, Optional, any_of

    widgets: dict[str, Any] = {}
    for name, spec in conn_fields.items():
        schema = spec["schema"]
        label = lazy_gettext(spec["label"])
        description = spec.get("description", "")
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if "enum" in schema:
            choices = [v for v in schema["enum"] if v is not None]
            widgets[name] = StringField(label, validators=[Optional(), any_of(choices)], widget=BS3TextFieldWidget(),
                                        description=f"{description} One of: {', '.join(choices)}.".strip())
        elif schema.get("format") == "password":
            widgets[name] = PasswordField(label, widget=BS3PasswordFieldWidget(), description=description)
        elif "number" in types or "integer" in types:
            default = schema.get("default")
            bounds = NumberRange(min=schema.get("minimum"), max=schema.get("maximum"))
            widgets[name] = IntegerField(label, validators=[Optional(), bounds], widget=BS3TextFieldWidget(),
                                         default=None if default is None else int(default), description=description)
        else:
            widgets[name] = StringField(label, widget=BS3TextFieldWidget(), default=schema.get("default"),
                                        description=description)
    return widgets


def field_behaviour(ui_field_behaviour: dict[str, Any]) -> dict[str, Any]:
    """The snake_case form of a kebab-case ``ui-field-behaviour`` dict."""
    return {key.replace("-", "_"): value for key, value in ui_field_behaviour.items()}
