"""The OpenAPI document: valid OpenAPI 3, with the error body declared on error responses."""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(anonymous) -> dict:
    response = anonymous.get("/pcm_api/schema", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def test_the_schema_is_valid_openapi_3(schema):
    validate(schema)

    assert schema["openapi"].startswith("3.")


def test_it_documents_every_read_endpoint(schema):
    assert {
        "/pcm_api/v2/clouds",
        "/pcm_api/v2/clouds/{cloud}",
        "/pcm_api/v2/clouds/{cloud}/sizes",
        "/pcm_api/v2/clouds/{cloud}/images",
        "/pcm_api/v2/sizes",
        "/pcm_api/v2/images",
        "/pcm_api/v2/subnets",
        "/pcm_api/v2/clouds/{cloud}/subnets",
        "/pcm_api/v2/roles",
        "/pcm_api/v2/environments",
    } <= set(schema["paths"])


def test_error_responses_use_the_error_schema(schema):
    error = schema["components"]["schemas"]["Error"]
    assert error["required"] == ["error", "message"]
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            for status in ("401", "404", "500"):
                content = operation["responses"][status]["content"]["application/json"]
                assert content["schema"] == {"$ref": "#/components/schemas/Error"}, (path, method)


def test_no_credentials_field_is_documented(schema):
    cloud = schema["components"]["schemas"]["Cloud"]["properties"]
    assert "credentials" not in cloud and "credentials_encrypted" not in cloud


def test_swagger_ui_is_served(anonymous):
    response = anonymous.get("/pcm_api/docs")

    assert response.status_code == 200
    assert b"swagger-ui" in response.content


def test_every_field_of_a_create_is_described_with_an_example(schema):
    create = schema["components"]["schemas"]["CreateRequest"]["properties"]

    assert set(create) == {
        "size",
        "image",
        "subnet",
        "environment",
        "role",
        "ssh_keys",
        "user_data",
        "tags",
        "lease",
        "extra",
    }
    for name, field in create.items():
        assert field.get("example") is not None, name
    assert create["ssh_keys"]["maxItems"] == 16
    assert create["user_data"]["writeOnly"] is True
    instance = schema["components"]["schemas"]["Instance"]["properties"]
    assert "user_data" not in instance
    for name in ("subnet", "ssh_keys", "tags", "user_data_sha256", "user_data_size", "expires_at"):
        assert instance[name].get("example") is not None, name


def test_patch_takes_a_status_or_tags_and_lists_filter_on_tags(schema):
    item = schema["paths"]["/pcm_api/v2/clouds/{cloud}/instances/{instance}"]
    patch = item["patch"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    properties = schema["components"]["schemas"][patch.rsplit("/", 1)[1]]["properties"]
    assert set(properties) == {"status", "tags", "expires_at", "lease"}
    parameters = {
        p["name"]: p for p in schema["paths"]["/pcm_api/v2/instances"]["get"]["parameters"]
    }
    assert parameters["tag"]["schema"]["type"] == "array"
    assert "subnet" in parameters
    assert parameters["expires_before"]["schema"]["format"] == "date-time"


def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield f"{method.upper()} {path}", operation


def test_every_operation_has_a_description_of_its_own(schema):
    described = {name: op.get("description", "") for name, op in operations(schema)}

    assert [name for name, text in described.items() if not text.strip()] == []
    shared = {text for text in described.values() if list(described.values()).count(text) > 1}
    assert shared == set()


def test_no_query_parameter_shadows_a_path_parameter(schema):
    for name, operation in operations(schema):
        by_place = {"path": set(), "query": set()}
        for parameter in operation.get("parameters", []):
            by_place.setdefault(parameter["in"], set()).add(parameter["name"])

        assert by_place["path"] & by_place["query"] == set(), name


def test_only_instance_lists_take_instance_filters(schema):
    filters = {"status", "role", "environment", "subnet", "name", "name_contains", "tag"}
    lists = {"GET /pcm_api/v2/clouds/{cloud}/instances", "GET /pcm_api/v2/instances"}
    for name, operation in operations(schema):
        query = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
        if name in lists:
            assert filters <= query, name
        else:
            assert query & (filters | {"cloud"}) == set(), name
    events = dict(operations(schema))["GET /pcm_api/v2/clouds/{cloud}/instances/{instance}/events"]
    assert {p["name"] for p in events["parameters"] if p["in"] == "query"} == {"page", "page_size"}


def test_only_what_may_call_a_cloud_documents_a_503(schema):
    with_503 = {name for name, op in operations(schema) if "503" in op["responses"]}

    assert with_503 == {
        "POST /pcm_api/v2/clouds/{cloud}/instances",
        "GET /pcm_api/v2/clouds/{cloud}/instances/{instance}",
        "PUT /pcm_api/v2/clouds/{cloud}/instances/{instance}",
        "PATCH /pcm_api/v2/clouds/{cloud}/instances/{instance}",
        "DELETE /pcm_api/v2/clouds/{cloud}/instances/{instance}",
        "GET /pcm_api/v2/clouds/{cloud}/instances/{instance}/console_log",
    }


def test_it_describes_the_token_header(schema):
    scheme = schema["components"]["securitySchemes"]["tokenAuth"]

    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "Authorization")
    assert "`Token <key>`" in scheme["description"]
    assert {"tokenAuth": []} in schema["paths"]["/pcm_api/v2/clouds"]["get"]["security"]
