"""A cloud's and an Inventory's outbound_allow: checked when saved (admin, import) and on
every connection; what API clients see of an Inventory's error body."""

from __future__ import annotations

import logging
import re

import pytest
from django.core.exceptions import ValidationError

from clouds.config_io import export_config, import_config
from clouds.models import Cloud, InventoryBackend
from clouds.services import cloud_check, inventory_for
from instances.models import Instance
from providers.inventory.base import InventoryError
from tests.factories import CloudFactory
from tests.providers.test_outbound import INVENTORY_BODY, METADATA_FORMS, local_server

pytestmark = pytest.mark.django_db


@pytest.fixture
def strict_site(settings):
    """A site that allows nothing beyond each cloud's own outbound_allow (production)."""
    settings.PCM_OUTBOUND_ALLOW = []
    settings.DEBUG = False


def ec2_cloud(endpoint: str, **fields) -> Cloud:
    return Cloud(
        name="LAB", provider="ec2", options={"region": "us-east-1", "endpoint": endpoint}, **fields
    )


def refusal(obj) -> str:
    with pytest.raises(ValidationError) as refused:
        obj.full_clean()
    return " ".join(str(message) for message in refused.value.message_dict.get("options", []))


@pytest.mark.parametrize("url", METADATA_FORMS)
def test_a_cloud_endpoint_at_a_metadata_address_is_refused_at_save(url):
    assert "metadata" in refusal(ec2_cloud(url, outbound_allow=["private", "link-local"]))


def test_a_name_that_resolves_to_loopback_is_refused_at_save_unless_allowed(strict_site):
    assert "endpoint: localhost is at 127.0.0.1: 127.0.0.1 is a loopback address" in refusal(
        ec2_cloud("http://localhost:5000/")
    )
    ec2_cloud("http://localhost:5000/", outbound_allow=["private", "loopback"]).full_clean()


def test_a_lab_cloud_on_a_private_range_is_fine_by_default_and_refused_when_not_listed():
    cloud = ec2_cloud("http://10.20.0.5:8773/")
    assert cloud.outbound_allow == ["private"]
    cloud.full_clean()

    assert "10.20.0.5 is a private address" in refusal(
        ec2_cloud("http://10.20.0.5/", outbound_allow=[])
    )


def test_a_blank_outbound_allow_is_public_addresses_only_and_a_wrong_word_says_the_accepted():
    cloud = ec2_cloud("https://8.8.8.8/", outbound_allow=None)
    cloud.full_clean()
    assert cloud.outbound_allow == []

    with pytest.raises(ValidationError) as refused:
        ec2_cloud("https://8.8.8.8/", outbound_allow=["metadata"]).full_clean()
    assert refused.value.message_dict["outbound_allow"] == [
        "Unknown metadata; accepted: private, loopback, link-local"
    ]


def test_an_inventory_url_is_refused_at_save_too(strict_site):
    backend = InventoryBackend(
        name="corp", plugin="http", options={"base_url": "http://2130706433/"}
    )

    assert "base_url: 2130706433 is at 127.0.0.1: 127.0.0.1 is a loopback" in refusal(backend)


INLINES = ("size_mappings", "image_mappings", "subnet_mappings", "access")
COUNTS = ("TOTAL_FORMS", "INITIAL_FORMS")


def test_the_admin_refuses_a_disguised_metadata_endpoint(alice_browser):
    page = alice_browser.post(
        "/admin/clouds/cloud/add/",
        {
            "name": "LAB",
            "provider": "ec2",
            "option__region": "us-east-1",
            "option__endpoint": "http://0251.0376.0251.0376/",
            "credential__access_key": "AKIA1",
            "credential__secret_key": "s",
            "outbound_allow": '["private"]',
            "extra_allowed": "[]",
            "enabled": "on",
            **{f"{inline}-{count}": "0" for inline in INLINES for count in COUNTS},
        },
    )

    assert page.status_code == 200  # the form again, with the error on the endpoint's field
    errors = page.context["adminform"].form.errors
    assert "169.254.169.254 is a cloud metadata address" in " ".join(errors["option__endpoint"])
    assert not Cloud.objects.exists()


def test_an_import_refuses_a_disguised_metadata_endpoint():
    text = (
        "clouds:\n- name: LAB\n  provider: ec2\n"
        "  options: {region: us-east-1, endpoint: 'http://[::ffff:169.254.169.254]/'}\n"
    )
    with pytest.raises(Exception, match="endpoint: must not point at a cloud metadata address"):
        import_config(text)
    assert not Cloud.objects.exists()


def test_outbound_allow_is_exported_and_imported():
    CloudFactory(name="LAB", outbound_allow=["private", "loopback"])

    exported = export_config()
    Cloud.objects.all().delete()
    import_config(exported)

    assert "outbound_allow:" in exported
    assert Cloud.objects.get(name="LAB").outbound_allow == ["private", "loopback"]


def test_a_cloud_allowed_at_save_is_refused_when_connecting_once_the_policy_changed(
    strict_site, moto
):
    cloud = ec2_cloud(moto.url.replace("127.0.0.1", "localhost"), outbound_allow=["loopback"])
    cloud.credentials = {"access_key": "AKIDPCMTESTING", "secret_key": "pcm-moto-secret"}
    cloud.full_clean()
    cloud.save()
    assert cloud_check(cloud=cloud).ok

    Cloud.objects.filter(pk=cloud.pk).update(outbound_allow=["private"])  # not through clean()
    result = cloud_check(cloud=Cloud.objects.get(pk=cloud.pk))

    assert not result.ok
    assert "Refused to connect to localhost: 127.0.0.1 is a loopback address" in result.error


def test_an_inventory_is_checked_on_every_connection_with_its_own_allowances(strict_site, aws):
    with local_server(lambda path: (204, {}, "")) as (url, asked):
        backend = InventoryBackend.objects.create(
            name="corp", plugin="http", options={"base_url": url}, outbound_allow=["loopback"]
        )
        backend.credentials = {"token": "t0ken"}
        backend.save()
        aws.inventory = backend
        aws.save()
        inventory_for(aws).release(cloud="AWSLAB-1", name="n")
        InventoryBackend.objects.update(outbound_allow=[])
        with pytest.raises(InventoryError, match=re.escape("127.0.0.1 is a loopback address")):
            inventory_for(Cloud.objects.get(pk=aws.pk)).release(cloud="AWSLAB-1", name="n")

    assert len(asked) == 1


def test_an_api_client_sees_an_inventory_error_body_short_and_clean(client_api, aws, caplog):
    caplog.set_level(logging.WARNING, logger="providers.inventory.http")
    with local_server(lambda path: (500, {}, INVENTORY_BODY)) as (url, _):
        backend = InventoryBackend.objects.create(
            name="corp", plugin="http", options={"base_url": url}
        )
        backend.credentials = {"token": "the-inventory-token"}
        backend.save()
        aws.inventory = backend
        aws.save()

        response = client_api.post("/pcm_api/v2/clouds/AWSLAB-1/instances", {"size": "small"})

    message = response.json()["message"]
    assert response.status_code == 503
    assert message.startswith("The Inventory cannot name the instance: The Inventory answered 500")
    assert len(message) < 300 and "END-OF-BODY" not in message and "\x1b" not in message
    assert "the-inventory-token" not in response.content.decode()
    assert "END-OF-BODY" in caplog.text
    assert not Instance.objects.exists()
