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
        "extra",
    }
    for name, field in create.items():
        assert field.get("example") is not None, name
    assert create["ssh_keys"]["maxItems"] == 16
    assert create["user_data"]["writeOnly"] is True
    instance = schema["components"]["schemas"]["Instance"]["properties"]
    assert "user_data" not in instance
    for name in ("subnet", "ssh_keys", "tags", "user_data_sha256", "user_data_size"):
        assert instance[name].get("example") is not None, name


def test_patch_takes_a_status_or_tags_and_lists_filter_on_tags(schema):
    item = schema["paths"]["/pcm_api/v2/clouds/{cloud}/instances/{instance}"]
    patch = item["patch"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    properties = schema["components"]["schemas"][patch.rsplit("/", 1)[1]]["properties"]
    assert set(properties) == {"status", "tags"}
    parameters = {
        p["name"]: p for p in schema["paths"]["/pcm_api/v2/instances"]["get"]["parameters"]
    }
    assert parameters["tag"]["schema"]["type"] == "array"
    assert "subnet" in parameters


def test_it_describes_the_token_header(schema):
    scheme = schema["components"]["securitySchemes"]["tokenAuth"]

    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "Authorization")
    assert "`Token <key>`" in scheme["description"]
    assert {"tokenAuth": []} in schema["paths"]["/pcm_api/v2/clouds"]["get"]["security"]
