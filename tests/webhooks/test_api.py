"""/pcm_api/v2/webhooks: staff manage subscriptions; the secret goes in, never out."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.factories import api_key
from webhooks.models import Subscription

pytestmark = pytest.mark.django_db

URL = "/pcm_api/v2/webhooks"
SECRET = "a-long-enough-secret-value"


@pytest.fixture
def staff(alice) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_key(alice)}")
    return client


def create(staff, **body):
    body = {"name": "ci", "url": "http://127.0.0.1:8999/hook", "secret": SECRET, **body}
    return staff.post(URL, body, format="json")


def test_staff_create_a_subscription_and_never_see_its_secret(staff, aws):
    response = create(staff, event_types=["instance.running"], clouds=["AWSLAB-1"])

    assert response.status_code == 201, response.json()
    shown = [response.json(), staff.get(f"{URL}/ci").json(), staff.get(URL).json()["results"][0]]
    for body in shown:
        assert "secret" not in body and "secret_encrypted" not in body
        assert SECRET not in str(body)
    assert shown[1]["clouds"] == ["AWSLAB-1"]
    subscription = Subscription.objects.get()
    assert subscription.secret == SECRET
    assert SECRET not in subscription.secret_encrypted  # encrypted at rest


def test_a_new_secret_replaces_the_old_one_and_stays_hidden(staff):
    create(staff)

    response = staff.patch(f"{URL}/ci", {"secret": "another-long-secret!"}, format="json")

    assert response.status_code == 200
    assert "secret" not in response.json()
    assert Subscription.objects.get().secret == "another-long-secret!"


def test_a_subscription_needs_a_secret(staff):
    response = staff.post(URL, {"name": "ci", "url": "https://example.com/"}, format="json")

    assert response.status_code == 400
    assert "secret" in str(response.json())


def test_an_unknown_event_type_is_a_400_that_lists_the_known_ones(staff):
    response = create(staff, event_types=["instance.exploded"])

    assert response.status_code == 400
    assert "instance.exploded" in str(response.json())
    assert "instance.running" in str(response.json())


@pytest.mark.parametrize(
    "url, why",
    [
        ("http://169.254.169.254/latest/", "metadata"),
        ("http://10.0.0.5/hook", "private address"),
        ("ftp://example.com/hook", "URL"),
    ],
)
def test_urls_follow_the_outbound_policy(staff, url, why):
    response = create(staff, url=url, outbound_allow=[])

    assert response.status_code == 400
    assert why in str(response.json())


def test_a_private_url_is_accepted_where_outbound_allow_lists_private(staff):
    assert create(staff, url="http://10.0.0.5/hook", outbound_allow=["private"]).status_code == 201


def test_webhooks_are_for_staff_only(api, anonymous, staff):
    create(staff)

    assert api.get(URL).status_code == 403
    assert api.get(f"{URL}/ci").status_code == 403
    assert api.post(URL, {"name": "x"}, format="json").status_code == 403
    assert api.get(URL).json()["error"] == "403"
    assert anonymous.get(URL).status_code == 401


def test_an_unknown_subscription_is_a_404_that_names_it(staff):
    response = staff.get(f"{URL}/nope")

    assert response.status_code == 404
    assert response.json()["message"] == "Webhook nope does not exist"


def test_staff_delete_a_subscription(staff):
    create(staff)

    assert staff.delete(f"{URL}/ci").status_code == 204
    assert not Subscription.objects.exists()


def test_the_browsable_api_pages_render_for_staff(alice_browser, staff):
    create(staff)

    for path in (URL, f"{URL}/ci"):
        page = alice_browser.get(path, HTTP_ACCEPT="text/html")
        assert page.status_code == 200, path
        assert page["Content-Type"].startswith("text/html")
        assert SECRET not in page.content.decode()


def test_an_unknown_field_is_a_400_that_lists_the_accepted_ones(staff):
    response = create(staff, colour="red")

    assert response.status_code == 400
    assert response.json()["message"].startswith("Unknown field(s) colour; accepted: name, url")


def test_a_patch_without_a_body_changes_nothing(staff):
    create(staff)

    response = staff.patch(f"{URL}/ci")

    assert response.status_code == 200
    assert response.json()["url"] == "http://127.0.0.1:8999/hook"


def test_enabled_is_true_or_false_only(staff):
    response = create(staff, enabled=0)

    assert response.status_code == 400
    assert "enabled" in response.json()["message"]


def test_clouds_is_a_list(staff):
    response = create(staff, clouds={})

    assert response.status_code == 400
    assert response.json()["message"] == "clouds must be a list of cloud names"


def test_a_name_or_url_is_a_string(staff):
    for body in ({"name": 0}, {"url": 1}):
        response = create(staff, **body)

        assert response.status_code == 400
        assert response.json()["message"] == f"{next(iter(body))} must be a string"
