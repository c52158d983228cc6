"""Point by point, the answers that were not the JSON error: CSRF, NUL characters, a cloud
whose plugin is gone. Each runs on SQLite and, in CI, on PostgreSQL (where a NUL used to
reach psycopg and be a 500)."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from rest_framework.test import APIClient

from clouds.models import Cloud
from instances.models import Instance
from tests.factories import CloudFactory

pytestmark = pytest.mark.django_db


def assert_json_error(response, status: int) -> str:
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = json.loads(response.content)
    assert body["error"] == str(status)
    return body["message"]


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_a_write_to_an_unknown_path_is_the_json_404_with_or_without_a_session(method, alice):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice)
    for client in (browser, Client(enforce_csrf_checks=True)):
        response = getattr(client, method)("/pcm_api/v2/nothing", "{}", "application/json")

        assert "No endpoint at /pcm_api/v2/nothing" in assert_json_error(response, 404)


def test_a_session_write_without_its_csrf_token_is_a_json_403_and_a_token_needs_none(alice, api):
    CloudFactory(name="LAB-A")
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice)

    response = browser.post("/pcm_api/v2/clouds/LAB-A/instances", "{}", "application/json")

    assert "CSRF" in assert_json_error(response, 403)
    # The same write with a token passes CSRF and reaches the API's own checks.
    assert (
        api.post("/pcm_api/v2/clouds/LAB-A/instances", {"bogus": 1}, format="json").status_code
        == 400
    )


def test_the_csrf_failure_view_answers_json_under_the_api_and_html_elsewhere(rf):
    from pcm.handlers import csrf_failure

    api = csrf_failure(rf.post("/pcm_api/v2/clouds"), reason="CSRF cookie not set.")
    admin = csrf_failure(rf.post("/admin/login/"), reason="CSRF cookie not set.")

    assert "CSRF cookie not set." in assert_json_error(api, 403)
    assert admin.status_code == 403 and admin["Content-Type"].startswith("text/html")


def test_a_nul_in_a_body_field_is_a_400_naming_the_field_and_nothing_is_created(api, aws):
    url = "/pcm_api/v2/clouds/AWSLAB-1/instances"
    cases = {
        "tags.team": {"size": "small", "role": "web", "tags": {"team": "a\x00b"}},
        "tags.a\\u0000b": {"size": "small", "role": "web", "tags": {"a\x00b": "x"}},
        "ssh_keys[0]": {"size": "small", "role": "web", "ssh_keys": ["ssh-ed25519 \x00"]},
        "role": {"size": "small", "role": "w\x00eb"},
    }
    for place, body in cases.items():
        message = assert_json_error(api.post(url, body, format="json"), 400)

        assert message == f"NUL characters (\\u0000) are not accepted: field {place}"
    assert Instance.objects.count() == 0


def test_a_nul_in_a_patch_is_a_400(api, aws):
    created = api.post(
        "/pcm_api/v2/clouds/AWSLAB-1/instances", {"size": "small", "role": "web"}, format="json"
    )
    url = created["Location"]

    response = api.patch(url, {"tags": {"k": "\x00"}}, format="json")

    assert "field tags.k" in assert_json_error(response, 400)
    assert Instance.objects.get().tags == {}


@pytest.mark.parametrize(
    ("url", "place"),
    [
        ("/pcm_api/v2/instances?name=a%00", "query parameter name"),
        ("/pcm_api/v2/instances?tag=team%3Da%00", "query parameter tag"),
        ("/pcm_api/v2/instances?a%00b=1", "query parameter a\\u0000b"),
        ("/pcm_api/v2/clouds/LAB%00-1", "the path"),
        ("/pcm_api/v2/clouds/LAB-1/instances/dev%00web", "the path"),
    ],
)
def test_a_nul_in_the_path_or_query_is_a_400_naming_where(api, url, place):
    message = assert_json_error(api.get(url), 400)

    assert message == f"NUL characters (\\u0000) are not accepted: {place}"


def test_a_cloud_whose_plugin_is_not_installed_is_a_503_naming_the_plugin(api, aws):
    Cloud.objects.filter(pk=aws.pk).update(provider="vanished")
    url = "/pcm_api/v2/clouds/AWSLAB-1/instances"

    create = api.post(url, {"size": "small", "role": "web"}, format="json")
    listing = api.get(url)

    assert assert_json_error(create, 503) == "This cloud's plugin 'vanished' is not installed"
    assert Instance.objects.count() == 0
    assert listing.status_code == 200  # what PCM records stays readable
    assert api.get("/pcm_api/v2/clouds/AWSLAB-1").status_code == 200


def test_anonymous_client_still_gets_401_before_any_nul_check_of_the_body():
    response = APIClient().post("/pcm_api/v2/clouds", {"x": "\x00"}, format="json")

    assert response.status_code == 401


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("post", "/pcm_api/docs", 406),  # the Swagger page renders HTML only
        ("get", "/pcm_api/schema?format=xml", 404),  # the schema renders YAML and JSON
        ("post", "/pcm_api/schema", 405),
    ],
)
def test_errors_of_the_schema_and_docs_views_are_the_json_error_too(method, path, status):
    response = getattr(Client(), method)(path, HTTP_ACCEPT="application/json")

    assert set(json.loads(response.content)) == {"error", "message"}
    assert_json_error(response, status)


def test_the_browsable_apis_error_pages_stay_pages(alice):
    browser = Client()
    browser.force_login(alice)

    response = browser.get("/pcm_api/v2/clouds/NOPE", HTTP_ACCEPT="text/html")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_an_unknown_format_says_so(api):
    response = api.get("/pcm_api/v2/clouds?format=xml")

    assert assert_json_error(response, 404) == (
        "No format 'xml' at /pcm_api/v2/clouds; ?format=json gives JSON"
    )
