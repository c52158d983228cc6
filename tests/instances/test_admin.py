"""Instances, their events and orphans in the admin: shown, not editable by hand."""

from __future__ import annotations

import pytest

from clouds.services import provider_for
from instances.models import Instance, Orphan
from instances.provisioning import reconcile_cloud
from providers.base import CreateOptions

pytestmark = pytest.mark.django_db

URL = "/pcm_api/v2/clouds/AWSLAB-1/instances"


def test_an_instance_and_its_events_are_shown_read_only(alice_browser, client_api, aws, worker):
    body = client_api.post(URL, {"size": "small", "role": "web"}).json()
    worker.run()

    listing = alice_browser.get("/admin/instances/instance/?status__exact=running&q=dev-web")
    page = alice_browser.get(f"/admin/instances/instance/{body['id']}/change/")
    post = alice_browser.post(f"/admin/instances/instance/{body['id']}/change/", {"status": "x"})

    assert listing.status_code == 200 and b"dev-web-001" in listing.content
    assert page.status_code == 200
    assert b"create" in page.content and b"succeeded" in page.content
    assert post.status_code == 403
    assert Instance.objects.get().status == "running"


def test_orphans_are_listed(alice_browser, aws):
    provider_for(aws).create(
        "stray",
        "t3.small",
        "ami-760aaa0f",
        CreateOptions(pcm_id="6c0a3a4e-0000-4000-8000-0000000000aa"),
    )
    reconcile_cloud(aws)

    page = alice_browser.get("/admin/instances/orphan/")

    assert Orphan.objects.count() == 1
    assert b"stray" in page.content
