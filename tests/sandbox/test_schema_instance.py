"""Generated tool arguments and structured answers validate against their schemas."""

import jsonschema
import pytest

from routing.sandbox.schema_instance import instance_for

SCHEMAS = [
    {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"],
     "additionalProperties": False},
    {"type": "string", "minLength": 12, "maxLength": 14},
    {"type": "string", "maxLength": 3},
    {"type": "string", "pattern": "^[A-Z][0-9]$"},
    {"type": "string", "format": "date-time"},
    {"type": "integer", "minimum": 10, "maximum": 20, "multipleOf": 7},
    {"type": "integer", "exclusiveMinimum": 5},
    {"type": "number", "exclusiveMaximum": 0},
    {"type": "number", "minimum": -3.5, "maximum": -1},
    {"type": ["null", "boolean"]},
    {"enum": ["red", "green"]},
    {"const": {"fixed": [1, 2]}},
    {"type": "array", "items": {"type": "integer"}, "minItems": 3, "maxItems": 3},
    {"type": "array", "items": {"type": "string"}, "maxItems": 0},
    {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}]},
    {"anyOf": [{"type": "null"}, {"type": "object", "properties": {"x": {"type": "number"}},
                                  "required": ["x"]}]},
    {"oneOf": [{"type": "string", "minLength": 2}]},
    {"allOf": [{"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]},
               {"properties": {"b": {"type": "boolean"}}, "required": ["b"]}]},
    {"type": "object", "properties": {"child": {"$ref": "#/$defs/node"}},
     "$defs": {"node": {"type": "object", "required": ["name", "children"],
                        "properties": {"name": {"type": "string"},
                                       "children": {"type": "array",
                                                    "items": {"$ref": "#/$defs/node"}}}}}},
    {"type": "object", "properties": {"p": {"$ref": "#/definitions/p"}}, "required": ["p"],
     "definitions": {"p": {"type": "string", "enum": ["only"]}}},
    {"type": "object", "required": ["free"], "additionalProperties": {"type": "integer"}},
]


@pytest.mark.parametrize("schema", SCHEMAS, ids=[str(i) for i in range(len(SCHEMAS))])
def test_instance_validates(schema):
    jsonschema.Draft202012Validator(schema).validate(instance_for(schema))


def test_recursive_schema_terminates_with_required_fields():
    value = instance_for(SCHEMAS[18])
    node = value["child"]
    depth = 0
    while node["children"]:
        node, depth = node["children"][0], depth + 1
    assert depth < 20


def test_gemini_openapi_types_are_case_insensitive():
    schema = {"type": "OBJECT", "properties": {"n": {"type": "INTEGER", "nullable": True},
                                               "tags": {"type": "ARRAY",
                                                        "items": {"type": "STRING"}}},
              "required": ["n"]}
    assert instance_for(schema) == {"n": 1, "tags": ["sandbox"]}
