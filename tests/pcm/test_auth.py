"""Every v2 endpoint needs an authenticated user: a token or a session."""

from __future__ import annotations

import pytest

from tests.factories import AbstractSizeFactory, CloudFactory, EnvironmentFactory, RoleFactory

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    "/pcm_api/v2/",
    "/pcm_api/v2/clouds",
    "/pcm_api/v2/clouds/LAB-1",
    "/pcm_api/v2/cloud/LAB-1",
    "/pcm_api/v2/clouds/LAB-1/sizes",
    "/pcm_api/v2/clouds/LAB-1/images",
    "/pcm_api/v2/locations/LAB-1/sizes",
    "/pcm_api/v2/sizes",
    "/pcm_api/v2/sizes/small",
    "/pcm_api/v2/images",
    "/pcm_api/v2/roles",
    "/pcm_api/v2/roles/web",
    "/pcm_api/v2/environments",
    "/pcm_api/v2/environments/dev",
]


@pytest.fixture(autouse=True)
def configuration():
    CloudFactory(name="LAB-1")
    AbstractSizeFactory(name="small")
    RoleFactory(name="web")
    EnvironmentFactory(name="dev")


@pytest.mark.parametrize("path", ENDPOINTS)
def test_anonymous_gets_a_401_in_the_error_format(anonymous, path):
    response = anonymous.get(path)

    assert response.status_code == 401
    assert response.json() == {
        "error": "401",
        "message": "Authentication credentials were not provided.",
    }


@pytest.mark.parametrize("path", ENDPOINTS)
def test_a_token_gets_in(api, path):
    assert api.get(path).status_code == 200


@pytest.mark.parametrize("path", ENDPOINTS)
def test_a_session_gets_in(client, bob, path):
    client.force_login(bob)

    assert client.get(path).status_code == 200


def test_the_browsable_api_works_for_a_logged_in_admin(alice_browser):
    response = alice_browser.get("/pcm_api/v2/clouds/LAB-1", HTTP_ACCEPT="text/html")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert b"LAB-1" in response.content
    assert b'class="navbar-brand" rel="nofollow" href="/pcm_api/v2">PCM API</a>' in response.content
    assert b"<title>LAB-1" in response.content


def test_the_browsable_api_shows_errors_as_json_bodies_too(alice_browser):
    response = alice_browser.get("/pcm_api/v2/clouds/NOPE", HTTP_ACCEPT="text/html")

    assert response.status_code == 404
    assert b"Cloud NOPE does not exist" in response.content


def test_a_browsable_page_describes_its_own_action_not_the_whole_viewset(alice_browser):
    from tests.factories import CloudFactory

    CloudFactory(name="LAB-2")

    listing = alice_browser.get("/pcm_api/v2/clouds/LAB-2/instances", HTTP_ACCEPT="text/html")

    assert b"newest first, filtered by the query" in listing.content
    assert b"Instances of one cloud." not in listing.content
