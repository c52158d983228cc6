"""Leases in the admin: the time left, a filter on it, and a one-click extension within
the maximum; roles and environments edit their lease policy."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from clouds.models import Environment
from instances.models import Instance

pytestmark = pytest.mark.django_db

URL = "/pcm_api/v2/clouds/AWSLAB-1/instances"
LIST = "/admin/instances/instance/"


@pytest.fixture
def leased(client_api, aws) -> dict[str, Instance]:
    """An instance per kind of lease: ending soon, tomorrow, ended, none."""
    leases = {"soon": "PT30M", "tomorrow": "PT20H", "ended": "PT1H", "never": None}
    made = {}
    for name, lease in leases.items():
        body = {"size": "small", **({"lease": lease} if lease else {})}
        made[name] = Instance.objects.get(pk=client_api.post(URL, body).json()["id"])
    Instance.objects.filter(pk=made["ended"].pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    return made


def shown(response) -> set[str]:
    return {instance.name for instance in response.context["cl"].result_list}


def test_the_list_shows_the_time_left(alice_browser, leased):
    html = alice_browser.get(LIST).content.decode()

    assert "Expires in" in html
    assert "29\xa0minutes" in html or "30\xa0minutes" in html
    assert "expired" in html


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("expired", {"ended"}),
        ("1h", {"soon"}),
        ("1d", {"soon", "tomorrow"}),
        ("none", {"never"}),
    ],
)
def test_the_list_filters_on_the_time_left(alice_browser, leased, value, expected):
    response = alice_browser.get(f"{LIST}?lease={value}")

    assert shown(response) == {leased[name].name for name in expected}


def test_extend_adds_a_day_within_the_maximum(alice_browser, leased):
    Environment.objects.filter(name="dev").update(max_lease=timedelta(hours=12))
    tomorrow_before = Instance.objects.get(pk=leased["tomorrow"].pk).expires_at
    selected = [leased[name].pk for name in ("soon", "tomorrow", "never")]

    response = alice_browser.post(
        LIST, {"action": "extend_leases", "_selected_action": selected}, follow=True
    )

    assert response.status_code == 200
    soon = Instance.objects.get(pk=leased["soon"].pk)
    cap = timezone.now() + timedelta(hours=12)
    assert abs(soon.expires_at - cap) < timedelta(seconds=30)  # +1 day, cut to 12 h
    (event,) = soon.events.filter(action="lease")
    assert event.actor == "alice"
    # Already past the 12 h maximum (set after its create): an extension never shortens.
    assert Instance.objects.get(pk=leased["tomorrow"].pk).expires_at == tomorrow_before
    assert Instance.objects.get(pk=leased["never"].pk).expires_at is None
    messages = [str(m) for m in response.context["messages"]]
    assert any(m.startswith(f"{soon.name}: expires at") for m in messages)
    assert f"{leased['tomorrow'].name}: already at its maximum lease" in messages


def test_extend_without_a_maximum_adds_a_day(alice_browser, leased):
    before = Instance.objects.get(pk=leased["tomorrow"].pk).expires_at

    alice_browser.post(
        LIST, {"action": "extend_leases", "_selected_action": [leased["tomorrow"].pk]}
    )

    assert Instance.objects.get(pk=leased["tomorrow"].pk).expires_at == before + timedelta(days=1)


def test_an_environment_refuses_a_default_above_its_maximum(alice_browser, catalogue):
    dev = Environment.objects.get(name="dev")

    response = alice_browser.post(
        f"/admin/clouds/environment/{dev.pk}/change/",
        {
            "name": "dev",
            "description": "",
            "default_lease": "8 00:00:00",
            "max_lease": "7 00:00:00",
        },
    )

    assert response.status_code == 200  # the form again, with the error
    assert "Must not be longer than the maximum lease" in response.content.decode()
    dev.refresh_from_db()
    assert dev.max_lease is None
