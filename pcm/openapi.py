"""drf-spectacular: PCM's AutoSchema, and a hook that declares the error body on every
operation and what the API refuses that the generated schema would not say."""

from __future__ import annotations

from drf_spectacular import openapi
from drf_spectacular.plumbing import get_doc


class AutoSchema(openapi.AutoSchema):
    """An operation's description is its own (its extend_schema, or its method's docstring),
    never the docstring of the view class that every operation of the view would share."""

    def get_description(self) -> str:
        action = getattr(self.view, getattr(self.view, "action", self.method.lower()), None)
        return get_doc(action)


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
}

BODY_ERROR_STATUSES = {"413": "Request body too large", "415": "Unsupported media type"}

# An example of each field of a create, and of what a read shows of it.
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl ops@example"
CREATE_EXAMPLES = {
    "size": "medium",
    "image": "centos-9",
    "subnet": "backend",
    "environment": "staging",
    "role": "web",
    "ssh_keys": [KEY],
    "user_data": "#cloud-config\npackages: [nginx]\n",
    "tags": {"team": "web", "ticket": "OPS-1234"},
    "lease": "PT8H",
    "extra": {"openstack": {"availability_zone": "nova"}},
}
READ_EXAMPLES = {
    **{name: CREATE_EXAMPLES[name] for name in ("size", "image", "subnet", "role", "tags")},
    "ssh_keys": [KEY],
    "user_data_sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "user_data_size": 31,
    "expires_at": "2026-12-04T18:00:00Z",
}
EXAMPLES = {"CreateRequest": CREATE_EXAMPLES, "Instance": READ_EXAMPLES}


def add_error_responses(result, generator, request, public):
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    # PCM refuses fields it does not know (a 400 that lists the accepted ones).
    for name, schema in schemas.items():
        if name.endswith("Request") and schema.get("type") == "object":
            schema["additionalProperties"] = False
        for field, example in EXAMPLES.get(name, {}).items():
            if field in schema.get("properties", {}):
                schema["properties"][field]["example"] = example
    ref = {"$ref": "#/components/schemas/Error"}
    for path_item in result.get("paths", {}).values():
        if "patch" in path_item and "requestBody" in path_item["patch"]:
            # A PATCH without a body changes nothing and answers 200, as an empty one does.
            path_item["patch"]["requestBody"].pop("required", None)
        for operation in path_item.values():
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
