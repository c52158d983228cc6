"""drf-spectacular hook: the error body declared on every operation, and what the API
refuses that the generated schema would not say."""

from __future__ import annotations

ERROR_SCHEMA = {
    "type": "object",
    "description": "Every error PCM returns.",
    "properties": {
        "error": {"type": "string", "description": "The HTTP status code", "example": "404"},
        "message": {"type": "string", "example": "Cloud SNV-LAB-9 does not exist"},
        "details": {
            "type": "object",
            "additionalProperties": True,
            "description": "Only with ?details=true: field errors, request id, ...",
        },
    },
    "required": ["error", "message"],
}

ERROR_STATUSES = {
    "400": "Bad input",
    "401": "Not authenticated",
    "403": "Not allowed",
    "404": "No such object",
    "405": "Method not allowed",
    "429": "Throttled",
    "500": "Internal error",
    "503": "A cloud or the Inventory cannot be reached, or the cloud is disabled",
}

NO_NUL = "^[^\\u0000]*$"

BODY_ERROR_STATUSES = {"413": "Request body too large", "415": "Unsupported media type"}


def add_error_responses(result, generator, request, public):
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    # PCM refuses fields it does not know (a 400 that lists the accepted ones).
    for name, schema in schemas.items():
        if name.endswith("Request") and schema.get("type") == "object":
            schema["additionalProperties"] = False
    ref = {"$ref": "#/components/schemas/Error"}
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                if (
                    schema.get("type") == "string"
                    and "pattern" not in schema
                    and "enum" not in schema
                ):
                    schema["pattern"] = NO_NUL  # Django refuses NUL characters in text
            responses = operation.setdefault("responses", {})
            statuses = dict(ERROR_STATUSES)
            if "requestBody" in operation:
                statuses.update(BODY_ERROR_STATUSES)
            for status, description in statuses.items():
                responses.setdefault(status, {"description": description})
            for status, response in responses.items():
                if status[0] in "45" and "content" not in response:
                    response["content"] = {"application/json": {"schema": ref}}
    return result
