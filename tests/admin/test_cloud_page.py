"""The cloud's admin pages explain its state: reachability, breaker, quota usage counted
from the instance rows, orphans, django-q2 tasks, and whether its mappings exist at the
provider."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.models import Task

from clouds.models import Cloud, ImageMapping, SizeMapping
from instances.models import Instance, Orphan
from tests import peers
from tests.factories import (
    AbstractImageFactory,
    AbstractSizeFactory,
    CloudFactory,
    EnvironmentFactory,
    ImageMappingFactory,
    SizeMappingFactory,
)

pytestmark = pytest.mark.django_db

LIST = "/admin/clouds/cloud/"


def change_url(cloud: Cloud) -> str:
    return f"{LIST}{cloud.pk}/change/"


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def run_action(browser, action: str, *clouds: Cloud):
    return browser.post(
        LIST, {"action": action, "_selected_action": [c.pk for c in clouds]}, follow=True
    )


def add_instance(cloud: Cloud, size, status: str, provider_id: str = "i-1") -> Instance:
    return Instance.objects.create(
        cloud=cloud,
        name=f"vm-{uuid.uuid4().hex[:8]}",
        environment=EnvironmentFactory(name="dev"),
        size=size,
        image=AbstractImageFactory(name="centos-9"),
        provider_size_id="t3.small",
        provider_image_id="ami-1",
        provider_id=provider_id,
        status=status,
    )


def test_the_list_shows_reachability_latency_and_the_breaker(alice_browser):
    now = timezone.now()
    CloudFactory(name="UP-1", last_check_ok=True, last_check_at=now, last_check_latency_ms=12.3)
    CloudFactory(
        name="DOWN-1",
        last_check_ok=False,
        last_check_at=now,
        last_check_error="Cannot reach",
        breaker_failures=5,
        breaker_open_until=now + timedelta(minutes=1),
    )
    CloudFactory(name="NEW-1", breaker_failures=2)

    html = alice_browser.get(LIST).content.decode()

    assert 'style="background:#2e7d32;color:#fff;padding:1px 7px;border-radius:9px;' in html
    assert ">ok</span>" in html and "12 ms" in html
    assert 'title="Cannot reach" style="background:#c62828;' in html
    assert ">failed</span>" in html and ">open until " in html
    assert ">unknown</span>" in html
    assert "closed (2 failures in a row)" in html


def test_quota_usage_is_counted_from_the_instances_that_hold_resources(alice_browser):
    cloud = CloudFactory(name="LAB-1", quota_instances=10, quota_vcpus=40, quota_ram_mb=16384)
    unlimited = CloudFactory(name="LAB-2")
    small = AbstractSizeFactory(name="small", vcpus=1, ram_mb=2048)
    medium = AbstractSizeFactory(name="medium", vcpus=2, ram_mb=4096)
    add_instance(cloud, small, "running")
    add_instance(cloud, small, "stopped")
    add_instance(cloud, medium, "building")
    add_instance(cloud, medium, "deleted")  # freed
    add_instance(cloud, medium, "error", provider_id="")  # never reached the provider
    add_instance(unlimited, medium, "running")

    page = alice_browser.get(change_url(cloud)).content.decode()
    listing = alice_browser.get(LIST).content.decode()

    usage = "3 / 10 instances, 4 / 40 vCPUs, 8192 / 16384 MB RAM"
    assert usage in page and usage in listing
    assert "1 instances, 2 vCPUs, 4096 MB RAM" in listing


def test_the_cloud_page_links_its_instances_and_orphans(alice_browser):
    cloud, other = CloudFactory(), CloudFactory()
    add_instance(cloud, AbstractSizeFactory(), "running")
    for n, where in enumerate([cloud, cloud, other]):
        Orphan.objects.create(cloud=where, provider_id=f"i-{n}", pcm_id=str(uuid.uuid4()))

    page = alice_browser.get(change_url(cloud)).content.decode()
    orphans = alice_browser.get(f"/admin/instances/orphan/?cloud__id__exact={cloud.pk}")

    assert f'<a href="/admin/instances/orphan/?cloud__id__exact={cloud.pk}">2 orphans</a>' in page
    assert f'<a href="/admin/instances/instance/?cloud__id__exact={cloud.pk}">1 instance</a>' in (
        page
    )
    assert sorted(o.provider_id for o in orphans.context["cl"].result_list) == ["i-0", "i-1"]


def test_the_cloud_page_links_its_django_q2_tasks(alice_browser):
    cloud = CloudFactory()
    now = timezone.now()
    for name in (
        f"reconcile cloud {cloud.pk}",
        f"check cloud {cloud.pk}",
        f"check cloud {cloud.pk}0",
    ):
        Task.objects.create(
            id=uuid.uuid4().hex, name=name, func="f", started=now, stopped=now, success=True
        )

    page = alice_browser.get(change_url(cloud))
    query = f"name__in=check+cloud+{cloud.pk}%2Creconcile+cloud+{cloud.pk}"
    tasks = alice_browser.get(f"/admin/django_q/success/?{query}")

    assert f'href="/admin/django_q/success/?{query}"' in page.content.decode()
    assert f'href="/admin/django_q/failure/?{query}"' in page.content.decode()
    assert sorted(t.name for t in tasks.context["cl"].result_list) == [
        f"check cloud {cloud.pk}",
        f"reconcile cloud {cloud.pk}",
    ]


def test_checking_mappings_records_which_ids_the_provider_lacks(alice_browser, aws):
    SizeMappingFactory(
        cloud=aws, size=AbstractSizeFactory(name="huge"), provider_size_id="t3.imaginary"
    )
    gone = ImageMappingFactory(
        cloud=aws, image=AbstractImageFactory(name="old"), provider_image_id="ami-00000000"
    )

    response = run_action(alice_browser, "check_mappings", aws)

    assert (
        "AWSLAB-1: mapped but not offered by the provider: t3.imaginary, ami-00000000"
        in messages_of(response)
    )
    assert {m.provider_size_id: m.found_at_provider for m in SizeMapping.objects.all()} == {
        "t3.small": True,
        "t3.medium": True,
        "c5.4xlarge": True,
        "t3.imaginary": False,
    }
    gone.refresh_from_db()
    assert gone.found_at_provider is False and gone.checked_at is not None
    sizes = alice_browser.get("/admin/clouds/sizemapping/?q=t3.imaginary").content.decode()
    images = alice_browser.get("/admin/clouds/imagemapping/").content.decode()
    cloud_page = alice_browser.get(change_url(aws)).content.decode()
    assert ">not found</span>" in sizes and ">found</span>" not in sizes
    assert ">not found</span>" in images and ">found</span>" in images
    assert cloud_page.count(">not found</span>") == 2


def test_sync_catalogue_checks_the_mappings_too(alice_browser, aws):
    response = run_action(alice_browser, "sync_catalogue", aws)

    assert "AWSLAB-1: all 4 mappings are offered by the provider" in messages_of(response)
    assert set(SizeMapping.objects.values_list("found_at_provider", flat=True)) == {True}
    assert ImageMapping.objects.get().found_at_provider is True


def test_a_mapping_saved_through_the_form_keeps_the_outcome_of_its_check(alice_browser, aws):
    alice_browser.post(
        "/admin/clouds/sizemapping/add/",
        {
            "cloud": aws.pk,
            "size": AbstractSizeFactory(name="large").pk,
            "provider_size_id": "t3.large",
        },
    )

    saved = SizeMapping.objects.get(provider_size_id="t3.large")
    assert saved.found_at_provider is True and saved.checked_at is not None
    unchecked = SizeMapping.objects.get(provider_size_id="t3.small")
    assert unchecked.found_at_provider is None
    listing = alice_browser.get("/admin/clouds/sizemapping/?q=t3.small").content.decode()
    assert ">unknown</span>" in listing


def test_a_cloud_that_cannot_tell_leaves_the_mappings_as_they_were(alice_browser):
    down = CloudFactory(
        name="DOWN-1",
        options={"region": "us-east-1", "endpoint": peers.closed_port_url(), "timeout": 2},
    )
    mapping = ImageMappingFactory(cloud=down, found_at_provider=True)

    response = run_action(alice_browser, "check_mappings", down)

    assert any(
        m.startswith("DOWN-1: mappings not checked: Cannot reach") for m in messages_of(response)
    )
    mapping.refresh_from_db()
    assert mapping.found_at_provider is True
