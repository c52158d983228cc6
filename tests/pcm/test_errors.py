"""Every error, from every layer, is {"error": "<status>", "message": ...}: one test per status."""

from __future__ import annotations

import logging

import pytest
from rest_framework.test import APIClient

from tests.factories import CloudFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.pcm.urls")]


def assert_error(response, status: int) -> dict:
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["error"] == str(status)
    assert isinstance(body["message"], str) and body["message"]
    return body


def test_400_names_each_wrong_field(api):
    body = assert_error(api.post("/pcm_api/v2/test/echo", {"count": 0}, format="json"), 400)

    assert "size: This field is required." in body["message"]
    assert "count: Ensure this value is greater than or equal to 1." in body["message"]
    assert "details" not in body


def test_400_details_carry_the_field_errors_and_the_request_id(api):
    response = api.post("/pcm_api/v2/test/echo?details=true", {"size": "m"}, format="json")

    body = assert_error(response, 400)
    assert body["details"]["fields"] == {"count": ["This field is required."]}
    assert body["details"]["request_id"] == response["X-Request-ID"]


def test_400_for_malformed_json(api):
    response = api.post("/pcm_api/v2/test/echo", data='{"size": ', content_type="application/json")

    assert "JSON parse error" in assert_error(response, 400)["message"]


def test_400_from_django_for_a_bad_host_header(api):
    assert_error(api.get("/pcm_api/v2/clouds", HTTP_HOST="evil.example"), 400)


def test_401_without_credentials(anonymous):
    response = anonymous.get("/pcm_api/v2/clouds")

    body = assert_error(response, 401)
    assert body["message"] == "Authentication credentials were not provided."
    assert response["WWW-Authenticate"] == "Token"


def test_401_with_a_wrong_token():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    assert assert_error(client.get("/pcm_api/v2/clouds"), 401)["message"] == "Invalid token."


def test_403_for_a_session_post_without_csrf_token(bob):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(bob)

    body = assert_error(client.post("/pcm_api/v2/test/echo", {}, format="json"), 403)
    assert "CSRF" in body["message"]


def test_404_for_an_unknown_cloud(api):
    body = assert_error(api.get("/pcm_api/v2/clouds/SNV-LAB-9"), 404)
    assert body["message"] == "Cloud SNV-LAB-9 does not exist"


def test_404_for_an_unknown_api_path_even_for_anonymous(anonymous):
    body = assert_error(anonymous.get("/pcm_api/v2/no/such/thing"), 404)
    assert body["message"] == "No endpoint at /pcm_api/v2/no/such/thing"


def test_404_from_django_outside_the_api(anonymous):
    assert_error(anonymous.get("/no-such-page"), 404)


def test_405_for_a_method_the_endpoint_does_not_take(api):
    CloudFactory(name="AWSLAB-1")

    body = assert_error(api.delete("/pcm_api/v2/clouds/AWSLAB-1"), 405)
    assert body["message"] == 'Method "DELETE" not allowed.'
    assert_error(api.post("/pcm_api/v2/clouds", {}, format="json"), 405)


def test_409_from_a_pcm_error(anonymous):
    body = assert_error(anonymous.get("/pcm_api/v2/test/fail/conflict"), 409)
    assert body["message"] == "Instance x is deleted: it cannot be rebooted"


def test_413_for_a_body_above_the_limit(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    payload = '{"size": "' + "x" * 2048 + '"}'

    response = api.post("/pcm_api/v2/test/echo", data=payload, content_type="application/json")

    assert "at most 1024" in assert_error(response, 413)["message"]


def test_413_for_a_ten_megabyte_body_with_the_default_limit(api):
    payload = '{"size": "' + "x" * (10 * 1024 * 1024) + '"}'

    response = api.post("/pcm_api/v2/test/echo", data=payload, content_type="application/json")

    assert_error(response, 413)


def test_415_for_a_body_that_is_not_json(api):
    response = api.post("/pcm_api/v2/test/echo", data="size=m", content_type="text/plain")

    body = assert_error(response, 415)
    assert body["message"] == 'Unsupported media type "text/plain" in request.'


def test_429_says_when_to_come_back(anonymous):
    response = anonymous.get("/pcm_api/v2/test/fail/throttled")

    body = assert_error(response, 429)
    assert response["Retry-After"] == "7"
    assert "7 seconds" in body["message"]


def test_500_is_json_logged_with_the_request_id_and_hides_the_trace(anonymous, caplog):
    with caplog.at_level(logging.ERROR, logger="pcm.errors"):
        response = anonymous.get("/pcm_api/v2/test/fail/bug?details=true")

    body = assert_error(response, 500)
    request_id = response["X-Request-ID"]
    assert request_id in body["message"]
    assert "traceback" not in body["details"]
    assert "boom" not in response.content.decode()
    record = next(r for r in caplog.records if r.name == "pcm.errors")
    assert record.request_id == request_id
    assert record.exc_info[0] is RuntimeError


def test_500_details_show_the_traceback_to_staff_only(alice_browser):
    response = alice_browser.get(
        "/pcm_api/v2/test/fail/bug?details=true", HTTP_ACCEPT="application/json"
    )

    body = assert_error(response, 500)
    assert any("boom: an unexpected bug" in line for line in body["details"]["traceback"])


def test_503_from_a_pcm_error(anonymous):
    body = assert_error(anonymous.get("/pcm_api/v2/test/fail/unavailable"), 503)
    assert body["message"] == "Cloud SNV-LAB-1 is disabled"


def test_507_always_carries_its_usage_and_limit_details(anonymous):
    plain = assert_error(anonymous.get("/pcm_api/v2/test/fail/limits"), 507)
    detailed = assert_error(anonymous.get("/pcm_api/v2/test/fail/limits?details=1"), 507)

    assert plain["message"] == (
        "Requested instance of size c1.large exceeds limits for cloud AWSLAB-1"
    )
    assert plain["details"] == {"limit": {"vcpus": 8}, "requested": {"vcpus": 16}}
    assert detailed["details"]["limit"] == {"vcpus": 8}
    assert "request_id" in detailed["details"]


def test_a_client_request_id_is_kept_and_a_forged_one_replaced(api):
    kept = api.get("/pcm_api/v2/clouds", HTTP_X_REQUEST_ID="trace-abc.123")
    forged = api.get("/pcm_api/v2/clouds", HTTP_X_REQUEST_ID="x\nERROR fake log line")

    assert kept["X-Request-ID"] == "trace-abc.123"
    assert forged["X-Request-ID"] != "x\nERROR fake log line"
    assert len(forged["X-Request-ID"]) == 36
