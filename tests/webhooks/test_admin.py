"""Webhooks in the admin: a write-only secret, each delivery shown, and redelivery."""

from __future__ import annotations

import pytest
from django_q.models import OrmQ
from django_q.signing import SignedPackage

import webhooks
from webhooks.models import Delivery, DeliveryStatus, Subscription

pytestmark = pytest.mark.django_db

SECRET = "admin-typed-secret-value"


def test_the_admin_adds_a_subscription_whose_secret_it_never_shows_again(alice_browser):
    response = alice_browser.post(
        "/admin/webhooks/subscription/add/",
        {
            "name": "chat",
            "url": "https://example.com/hook",
            "secret": SECRET,
            "event_types": '["instance.error"]',
            "enabled": "on",
            "outbound_allow": "[]",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    subscription = Subscription.objects.get()
    assert subscription.secret == SECRET
    page = alice_browser.get(f"/admin/webhooks/subscription/{subscription.pk}/change/")
    assert page.status_code == 200
    assert SECRET not in page.content.decode()
    assert subscription.secret_encrypted not in page.content.decode()


def test_the_admin_refuses_an_unknown_event_type(alice_browser):
    response = alice_browser.post(
        "/admin/webhooks/subscription/add/",
        {
            "name": "chat",
            "url": "https://example.com/hook",
            "secret": SECRET,
            "event_types": '["nope"]',
            "outbound_allow": "[]",
        },
    )

    assert response.status_code == 200
    assert "Unknown nope" in response.content.decode()


@pytest.fixture
def failed(aws, subscribe, django_capture_on_commit_callbacks):
    subscription = subscribe("http://127.0.0.1:9/")
    event = webhooks.emit("cloud.unreachable", cloud=aws)
    Delivery.objects.update(
        status=DeliveryStatus.FAILED, attempts=7, last_error="HTTP 502: bad gateway"
    )
    return Delivery.objects.get(subscription=subscription, event=event)


def test_the_admin_lists_each_delivery_with_its_outcome(alice_browser, failed):
    page = alice_browser.get("/admin/webhooks/delivery/").content.decode()

    for shown in ("cloud.unreachable", "failed", "HTTP 502: bad gateway", ">7<"):
        assert shown in page


def test_the_admin_redelivers_in_one_action(
    alice_browser, failed, django_capture_on_commit_callbacks
):
    OrmQ.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_browser.post(
            "/admin/webhooks/delivery/",
            {"action": "redeliver_selected", "_selected_action": [failed.pk]},
        )

    assert response.status_code == 302
    failed.refresh_from_db()
    assert failed.status == DeliveryStatus.PENDING
    [entry] = OrmQ.objects.all()
    task = SignedPackage.loads(entry.payload)
    assert (task["func"], task["args"]) == ("webhooks.tasks.deliver", (failed.pk,))
