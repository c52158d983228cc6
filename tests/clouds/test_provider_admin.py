"""The admin against a real cloud (moto): test connection, sync catalogue, mappings
checked at the provider, reload plugins; and the scheduled reachability check."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django_q.models import OrmQ, Schedule

from clouds.models import CatalogueItem, Cloud, ImageMapping, SizeMapping
from clouds.tasks import CHECK_SCHEDULE_NAME, check_cloud, check_clouds
from tests import peers
from tests.admin_forms import inline_prefix, rendered_form_data
from tests.factories import (
    AbstractImageFactory,
    AbstractSizeFactory,
    CloudFactory,
    SizeMappingFactory,
)

pytestmark = pytest.mark.django_db

AMI = "ami-03cf127a"


@pytest.fixture
def lab(moto) -> Cloud:
    return CloudFactory(
        name="AWSLAB-1", options={"region": "us-east-1", "endpoint": moto.url, "timeout": 10}
    )


@pytest.fixture
def down() -> Cloud:
    return CloudFactory(
        name="DOWN-1",
        options={"region": "us-east-1", "endpoint": peers.closed_port_url(), "timeout": 2},
    )


def run_action(browser, action: str, *clouds: Cloud):
    return browser.post(
        "/admin/clouds/cloud/",
        {"action": action, "_selected_action": [c.pk for c in clouds]},
        follow=True,
    )


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_test_connection_reports_latency_and_the_api_shows_it_reachable(alice_browser, api, lab):
    response = run_action(alice_browser, "test_connection", lab)

    assert any(m.startswith("AWSLAB-1: reachable in ") for m in messages_of(response))
    status = api.get("/pcm_api/v2/clouds/AWSLAB-1").json()["status"]
    assert status["reachable"] is True
    assert status["latency_ms"] > 0 and status["last_check"] is not None
    assert status["last_error"] == ""


def test_test_connection_reports_the_providers_error(alice_browser, api, down):
    response = run_action(alice_browser, "test_connection", down)

    assert "DOWN-1: Cannot reach the cloud for the list locations" in messages_of(response)
    status = api.get("/pcm_api/v2/clouds/DOWN-1").json()["status"]
    assert status["reachable"] is False
    assert "Cannot reach the cloud" in status["last_error"]


def test_a_get_never_calls_the_provider(api, lab):
    api.get("/pcm_api/v2/clouds")
    api.get("/pcm_api/v2/clouds/AWSLAB-1")

    lab.refresh_from_db()
    assert lab.last_check_at is None


def test_sync_catalogue_fetches_sizes_and_images_offered_in_the_mapping_form(alice_browser, lab):
    response = run_action(alice_browser, "sync_catalogue", lab)

    assert any(
        "sizes, " in m and "images and" in m and "subnets fetched" in m
        for m in messages_of(response)
    )
    sizes = CatalogueItem.objects.filter(cloud=lab, kind="size")
    assert sizes.filter(provider_id="t3.small", ram_mb=2048, vcpus=2).exists()
    assert CatalogueItem.objects.filter(cloud=lab, kind="image", provider_id=AMI).exists()
    page = alice_browser.get(f"/admin/clouds/cloud/{lab.pk}/change/").content.decode()
    assert f'<datalist id="catalogue-{lab.pk}-size">' in page
    # moto's default VPC: one subnet per zone of us-east-1, offered to the subnet mappings.
    subnets = CatalogueItem.objects.filter(cloud=lab, kind="subnet")
    assert subnets.count() >= 2 and all(s.provider_id.startswith("subnet-") for s in subnets)
    assert f'<datalist id="catalogue-{lab.pk}-subnet">' in page
    assert '<option value="t3.small">' in page


def test_sync_catalogue_of_an_unreachable_cloud_says_why(alice_browser, down):
    response = run_action(alice_browser, "sync_catalogue", down)

    assert "DOWN-1: Cannot reach the cloud for the list images" in messages_of(response)
    assert not CatalogueItem.objects.exists()


def test_a_mapping_to_a_size_the_provider_lacks_is_refused(alice_browser, lab):
    response = alice_browser.post(
        "/admin/clouds/sizemapping/add/",
        {"cloud": lab.pk, "size": AbstractSizeFactory().pk, "provider_size_id": "t3.imaginary"},
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["provider_size_id"]
    assert "AWSLAB-1 has no size 't3.imaginary'" in errors[0]
    assert not SizeMapping.objects.exists()


def test_a_mapping_to_a_real_size_and_image_is_saved(alice_browser, lab):
    size = alice_browser.post(
        "/admin/clouds/sizemapping/add/",
        {"cloud": lab.pk, "size": AbstractSizeFactory().pk, "provider_size_id": "t3.small"},
    )
    image = alice_browser.post(
        "/admin/clouds/imagemapping/add/",
        {"cloud": lab.pk, "image": AbstractImageFactory().pk, "provider_image_id": AMI},
    )

    assert size.status_code == image.status_code == 302
    assert SizeMapping.objects.get().provider_size_id == "t3.small"
    assert ImageMapping.objects.get().provider_image_id == AMI


def test_a_mapping_to_an_image_the_provider_lacks_is_refused(alice_browser, lab):
    response = alice_browser.post(
        "/admin/clouds/imagemapping/add/",
        {"cloud": lab.pk, "image": AbstractImageFactory().pk, "provider_image_id": "ami-00000000"},
    )

    errors = response.context["adminform"].form.errors["provider_image_id"]
    assert "AWSLAB-1 has no image 'ami-00000000'" in errors[0]


def test_an_unreachable_cloud_lets_the_mapping_save_with_a_warning(alice_browser, down):
    response = alice_browser.post(
        "/admin/clouds/imagemapping/add/",
        {"cloud": down.pk, "image": AbstractImageFactory().pk, "provider_image_id": AMI},
        follow=True,
    )

    assert ImageMapping.objects.get().provider_image_id == AMI
    warning = f"{AMI} was not checked at DOWN-1: Cannot reach the cloud for the image lookup"
    assert warning in messages_of(response)


def test_mappings_edited_inline_are_checked_too(alice_browser, lab):
    SizeMappingFactory(
        cloud=lab, size=AbstractSizeFactory(name="small"), provider_size_id="t3.small"
    )
    page = alice_browser.get(f"/admin/clouds/cloud/{lab.pk}/change/")
    data = rendered_form_data(page)
    data[f"{inline_prefix(page, 'sizemapping')}-0-provider_size_id"] = "t3.imaginary"

    response = alice_browser.post(f"/admin/clouds/cloud/{lab.pk}/change/", data)

    assert response.status_code == 200
    assert SizeMapping.objects.get().provider_size_id == "t3.small"


def test_reload_plugins_lists_them(alice_browser):
    page = alice_browser.get("/admin/clouds/cloud/")
    assert b"reload-plugins/" in page.content

    response = alice_browser.get("/admin/clouds/cloud/reload-plugins/", follow=True)

    assert any(m.startswith("Provider plugins: azure_arm, ec2, gce") for m in messages_of(response))


def test_the_plugins_command_lists_options_and_capabilities():
    out = io.StringIO()

    call_command("pcm_plugins", "--reload", stdout=out)

    assert "ec2: Amazon EC2 / EC2-compatible" in out.getvalue()
    assert "credentials: access_key, secret_key" in out.getvalue()


def test_a_schedule_checks_every_enabled_cloud(lab, down):
    CloudFactory(name="OFF-1", enabled=False)
    schedule = Schedule.objects.get(name=CHECK_SCHEDULE_NAME)
    assert schedule.func == "clouds.tasks.check_clouds"

    assert check_clouds() == 2
    assert OrmQ.objects.count() == 2

    assert check_cloud(lab.pk) is True
    assert check_cloud(down.pk) is False
    lab.refresh_from_db()
    assert lab.last_check_ok is True and lab.last_check_latency_ms > 0


def test_an_openstack_cloud_at_mimic_passes_the_test_and_syncs(alice_browser, api, mimic):
    options, credentials = mimic.options()
    cloud = CloudFactory(
        name="SNV-LAB-1", provider="openstack", options=options, credentials=credentials
    )

    tested = run_action(alice_browser, "test_connection", cloud)
    synced = run_action(alice_browser, "sync_catalogue", cloud)

    assert any(m.startswith("SNV-LAB-1: reachable in ") for m in messages_of(tested))
    assert messages_of(synced)[0].startswith("SNV-LAB-1: 35 sizes, ")
    # mimic has no networks API: the sync says so, and keeps what it has.
    assert any(m.startswith("SNV-LAB-1: subnets not listed: ") for m in messages_of(synced))
    assert api.get("/pcm_api/v2/clouds/SNV-LAB-1").json()["status"]["reachable"] is True
    flavour = CatalogueItem.objects.get(cloud=cloud, kind="size", provider_id="2")
    assert (flavour.vcpus, flavour.ram_mb) == (1, 512)
    refused = alice_browser.post(
        "/admin/clouds/sizemapping/add/",
        {"cloud": cloud.pk, "size": AbstractSizeFactory().pk, "provider_size_id": "m1.nope"},
    )
    errors = refused.context["adminform"].form.errors["provider_size_id"]
    assert "SNV-LAB-1 has no size 'm1.nope'" in errors[0]
