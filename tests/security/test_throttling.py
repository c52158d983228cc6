"""Throttling: per user, configurable, a 429 in the error format with Retry-After."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_a_user_over_the_rate_gets_a_429_with_retry_after(api, settings):
    settings.PCM_THROTTLE_USER = "3/min"

    answers = [api.get("/pcm_api/v2/clouds") for _ in range(4)]

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    last = answers[-1]
    assert last.json()["error"] == "429"
    assert "throttled" in last.json()["message"].lower()
    assert 0 < int(last["Retry-After"]) <= 60


def test_users_are_counted_apart(api, alice_browser, settings):
    settings.PCM_THROTTLE_USER = "2/min"
    api.get("/pcm_api/v2/clouds")
    api.get("/pcm_api/v2/clouds")

    assert api.get("/pcm_api/v2/clouds").status_code == 429
    assert alice_browser.get("/pcm_api/v2/clouds").status_code == 200


def test_anonymous_clients_are_throttled_by_address_where_they_are_let_in(anonymous, settings):
    settings.PCM_THROTTLE_ANON = "2/min"

    statuses = [anonymous.get("/pcm_api/schema").status_code for _ in range(3)]

    assert statuses == [200, 200, 429]


def test_an_empty_rate_means_no_limit(api, settings):
    settings.PCM_THROTTLE_USER = ""

    assert all(api.get("/pcm_api/v2/clouds").status_code == 200 for _ in range(30))
