"""The editor's palette entries and property forms of catalog components, derived from their component specs.

Everything comes from the catalogs' cache (nothing is fetched on the request path), and every form is derived from
the `ComponentSpec` alone: no code per component. An input's form is a choice, in the shapes Elyra's editor saves
and `parsing.saved_component_value` reads: a value (`{"widget": "string", "value": "x"}`; dict and list inputs as
JSON text, as Elyra's editor writes them) or the output of an upstream node (`{"widget": "inputpath" |
"inputvalue", "value": {"value": <node id>, "option": "elyra_<output id>"}}`, the editor filling in the nodes and
outputs to choose from). The Kubernetes settings are the generic nodes' own (`properties.POD_PROPERTIES`).
"""

from __future__ import annotations

import json
import math
from typing import Any

from .catalogs import CatalogComponent, ComponentCatalogs, ComponentInput
from .catalogs.components import PATH
from .parsing import ELYRA_OUTPUT_PREFIX
from .properties import JSON, POD_PROPERTIES, FormContext, node_app_data_form, property_forms, ui_schema

VALUE_WIDGETS = {"string": "string", "number": "number", "boolean": "boolean", "object": "string", "array": "string"}
JSON_TEXT_PLACEHOLDERS = {"object": "{}", "array": "[]"}
UPSTREAM_OUTPUT: JSON = {"type": "object", "title": "Upstream output", "required": ["value", "option"], "properties": {
    "value": {"type": "string", "title": "Node", "description": "The upstream node's id."},
    "option": {"type": "string", "title": "Output", "pattern": f"^{ELYRA_OUTPUT_PREFIX}",
               "description": f"The output's id, prefixed with {ELYRA_OUTPUT_PREFIX}."}}}


def component_categories(catalogs: ComponentCatalogs) -> list[JSON]:
    """The palette categories of the cached components: one per catalog and category (a catalog without categories
    is one, named after the catalog), in the catalogs' order; catalogs never read are left out."""
    cached = catalogs.cache.catalogs()
    categories: list[JSON] = []
    for name in catalogs.store.names():
        catalog = cached.get(name)
        if catalog is None or not catalog.components:
            continue
        node_types = [{"op": component.op, "label": component.spec.name, "description": component.spec.description,
                       "extensions": [], "catalog": name, "catalog_display_name": catalog.display_name}
                      for component in catalog.components]
        for category in catalog.categories or (None,):
            categories.append({"id": f"{name}/{category}" if category else name,
                               "label": f"{category} ({catalog.display_name})" if category else catalog.display_name,
                               "node_types": node_types})
    return categories


def component_form(component: CatalogComponent) -> JSON:
    """The editor's form of a component node: its label, its inputs (required ones as the component needs them),
    its outputs (shown, not edited) and the Kubernetes settings of its pod."""
    spec = component.spec
    parameters: JSON = {item.id: _input_form(item) for item in spec.inputs}
    parameters.update({output.id: {"type": "string", "title": output.name, "readOnly": True,
                                   "description": _help(output.description, f"Output ({output.type}).")}
                       for output in spec.outputs})
    parameters.update(property_forms(POD_PROPERTIES, FormContext()))
    required = [item.id for item in spec.inputs if not item.optional and item.default is None]
    form = node_app_data_form("the component's name", spec.name, parameters, required)
    fields = form["uiSchema"].setdefault("component_parameters", {})
    for item in spec.inputs:  # rjsf applies an input's UI schema to the choice made: the value's hints, and the
        # widget (which names the choice) hidden, as the editor sets it and the user never types it
        a_value = next(option for option in parameters[item.id]["oneOf"] if "x-upstream-output" not in option)
        fields[item.id] = {**fields.get(item.id, {}), **ui_schema(a_value), "widget": {"ui:widget": "hidden"}}
    return form


def _input_form(item: ComponentInput) -> JSON:
    """One input: a value of its type, or an upstream node's output (as a file for inputs consumed as paths)."""
    widget = VALUE_WIDGETS[item.json_type]
    value: JSON = {"type": widget, "title": "Value"}
    if item.json_type in JSON_TEXT_PLACEHOLDERS:
        value["uihints"] = {"ui:placeholder": JSON_TEXT_PLACEHOLDERS[item.json_type]}
    default = _form_default(item)
    if default is not None:
        value["default"] = default
    a_value = {"title": "A value", "type": "object", "required": ["widget"],
               "properties": {"widget": {"type": "string", "enum": [widget], "default": widget}, "value": value}}
    upstream_widget = "inputpath" if item.kind == PATH else "inputvalue"
    an_output = {"title": "The output of an upstream node", "type": "object", "required": ["widget", "value"],
                 "x-upstream-output": True, "properties": {
                     "widget": {"type": "string", "enum": [upstream_widget], "default": upstream_widget},
                     "value": UPSTREAM_OUTPUT}}
    choices = [an_output, a_value] if item.kind == PATH else [a_value, an_output]
    kind = "a file: an upstream node's output, or a value written to one" if item.kind == PATH else "a value"
    schema: JSON = {"title": item.name, "type": "object", "description": _help(item.description,
                    f"type {item.type}; takes {kind}."), "oneOf": choices}
    if item.kind != PATH:
        schema["default"] = {"widget": widget, **({"value": default} if default is not None else {})}
    return schema


def _help(description: str, facts: str) -> str:
    return f"{description} ({facts})" if description else facts


def _form_default(item: ComponentInput) -> Any:
    """The spec's default as the value field holds it; None when there is none or it does not read as one."""
    default = item.default
    if default is None:
        return None
    if item.json_type in JSON_TEXT_PLACEHOLDERS:
        return default if isinstance(default, str) else json.dumps(default)
    if item.json_type == "number":
        try:
            number = float(default)
        except (TypeError, ValueError):
            return None
        return (int(number) if number.is_integer() else number) if math.isfinite(number) else None
    if item.json_type == "boolean":
        text = str(default).strip().lower()
        return default if isinstance(default, bool) else {"true": True, "false": False}.get(text)
    return default if isinstance(default, str) else json.dumps(default)
