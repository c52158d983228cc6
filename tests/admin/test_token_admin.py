"""API tokens in the admin: the key is shown once, after the add; the digest never."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from pcm.models import ApiToken
from tests.factories import api_key

pytestmark = pytest.mark.django_db

LIST = "/admin/pcm/apitoken/"


def add(browser, user, *, expiry=None, **fields):
    expiry = expiry or timezone.now() + timedelta(days=7)
    data = {
        "user": user.pk,
        "name": "",
        "expiry_0": f"{expiry:%Y-%m-%d}",
        "expiry_1": f"{expiry:%H:%M:%S}",
        **fields,
    }
    return browser.post(f"{LIST}add/", data, follow=True)


def shown_key(response) -> str:
    messages = [str(message) for message in response.context["messages"]]
    keys = [m.group(1) for text in messages if (m := re.search(r": ([0-9a-f]{64})$", text))]
    assert len(keys) == 1, messages
    return keys[0]


def status_with(key: str, method: str = "get") -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return getattr(client, method)("/pcm_api/v2/clouds", {}, format="json").status_code


def test_the_add_page_proposes_the_default_expiry(alice_browser, settings):
    settings.PCM_TOKEN_TTL_DAYS = 30

    page = alice_browser.get(f"{LIST}add/").content.decode()

    assert f'value="{timezone.now() + timedelta(days=30):%Y-%m-%d}"' in page


def test_adding_a_token_shows_its_key_once(alice_browser, bob):
    response = add(alice_browser, bob, name="nightly report", read_only="on")

    key = shown_key(response)
    token = ApiToken.objects.get()
    assert (token.user, token.name, token.read_only) == (bob, "nightly report", True)
    assert status_with(key) == 200
    assert status_with(key, "post") == 403
    again = alice_browser.get(LIST).content.decode()
    change = alice_browser.get(f"{LIST}{token.pk}/change/").content.decode()
    for page in (again, change):
        assert token.token_key in page
        assert key not in page
        assert token.digest not in page


def test_an_expiry_in_the_past_is_refused(alice_browser, bob):
    response = add(alice_browser, bob, expiry=timezone.now() - timedelta(days=1))

    assert "The expiry must be in the future." in response.content.decode()
    assert not ApiToken.objects.exists()


def test_a_token_without_expiry_never_expires(alice_browser, bob):
    response = alice_browser.post(
        f"{LIST}add/", {"user": bob.pk, "name": "", "expiry_0": "", "expiry_1": ""}, follow=True
    )

    shown_key(response)
    assert ApiToken.objects.get().expiry is None


def test_deleting_revokes(alice_browser, bob):
    key = api_key(bob)
    token = ApiToken.objects.get()

    alice_browser.post(
        LIST, {"action": "delete_selected", "_selected_action": [token.pk], "post": "yes"}
    )

    assert not ApiToken.objects.exists()
    assert status_with(key) == 401


def test_the_list_says_which_tokens_are_expired(alice_browser, bob):
    api_key(bob)
    ApiToken.objects.update(expiry=timezone.now() - timedelta(days=1))

    page = alice_browser.get(LIST).content.decode()

    assert 'alt="False"' in page
