"""The configuration admin: edits through its own forms, live in the API on the next request;
credentials encrypted and write-only; bad input is a form error, never a 500."""

from __future__ import annotations

import pytest

from clouds.models import Cloud, Role
from tests.admin_forms import inline_prefix, rendered_form_data
from tests.factories import (
    AbstractImageFactory,
    AbstractSizeFactory,
    CloudFactory,
    EnvironmentFactory,
    ImageMappingFactory,
    RoleFactory,
    SizeMappingFactory,
)

pytestmark = pytest.mark.django_db

SECRET = "PLANTED-SECRET-4b7d"


def change_url(cloud: Cloud) -> str:
    return f"/admin/clouds/cloud/{cloud.pk}/change/"


def new_cloud_data(**overrides) -> dict:
    data = {
        "name": "NEW-LAB-1",
        "description": "",
        "provider": "ec2",
        "enabled": "on",
        "outbound_allow": '["private"]',
        "option__region": "eu-west-1",
        "credential__access_key": "AKIA1",
        "credential__secret_key": SECRET,
        "size_mappings-TOTAL_FORMS": "0",
        "size_mappings-INITIAL_FORMS": "0",
        "image_mappings-TOTAL_FORMS": "0",
        "image_mappings-INITIAL_FORMS": "0",
        "subnet_mappings-TOTAL_FORMS": "0",
        "subnet_mappings-INITIAL_FORMS": "0",
        "access-TOTAL_FORMS": "0",
        "access-INITIAL_FORMS": "0",
    }
    data.update(overrides)
    return data


def test_a_size_mapping_edited_in_the_cloud_page_is_served_on_the_next_request(alice_browser, api):
    cloud = CloudFactory(name="AWSLAB-1")
    SizeMappingFactory(
        cloud=cloud, size=AbstractSizeFactory(name="medium"), provider_size_id="t3.medium"
    )
    before = api.get("/pcm_api/v2/clouds/AWSLAB-1/sizes").json()["results"]
    assert before[0]["provider_size_id"] == "t3.medium"

    page = alice_browser.get(change_url(cloud))
    data = rendered_form_data(page)
    data[f"{inline_prefix(page, 'sizemapping')}-0-provider_size_id"] = "m6i.large"
    response = alice_browser.post(change_url(cloud), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    after = api.get("/pcm_api/v2/clouds/AWSLAB-1/sizes").json()["results"]
    assert after[0]["provider_size_id"] == "m6i.large"


def test_limits_edited_in_the_admin_are_served_on_the_next_request(alice_browser, api):
    cloud = CloudFactory(name="AWSLAB-1", max_vcpus=8, quota_instances=10)
    assert api.get("/pcm_api/v2/clouds/AWSLAB-1").json()["limits"]["vcpus"] == 8

    data = rendered_form_data(alice_browser.get(change_url(cloud)))
    data.update(max_vcpus="4", quota_instances="3", enabled="")
    del data["enabled"]
    assert alice_browser.post(change_url(cloud), data).status_code == 302

    detail = api.get("/pcm_api/v2/clouds/AWSLAB-1").json()
    assert detail["limits"]["vcpus"] == 4
    assert detail["quotas"]["instances"] == 3
    assert detail["enabled"] is False


def test_a_new_size_mapping_in_its_own_admin_page_is_served_at_once(alice_browser, api):
    cloud = CloudFactory(name="AWSLAB-1")
    size = AbstractSizeFactory(name="large")

    response = alice_browser.post(
        "/admin/clouds/sizemapping/add/",
        {"cloud": cloud.pk, "size": size.pk, "provider_size_id": "t3.xlarge"},
    )

    assert response.status_code == 302
    sizes = api.get("/pcm_api/v2/clouds/AWSLAB-1/sizes").json()["results"]
    assert [(s["name"], s["provider_size_id"]) for s in sizes] == [("large", "t3.xlarge")]


def test_adding_a_cloud_stores_its_credentials_encrypted(alice_browser):
    response = alice_browser.post("/admin/clouds/cloud/add/", new_cloud_data())

    assert response.status_code == 302
    cloud = Cloud.objects.get(name="NEW-LAB-1")
    assert SECRET not in cloud.credentials_encrypted
    assert cloud.credentials == {"access_key": "AKIA1", "secret_key": SECRET}
    assert cloud.options == {"region": "eu-west-1"}


def test_credentials_are_never_shown_back(alice_browser):
    cloud = CloudFactory(credentials={"access_key": "AKIA1", "secret_key": SECRET})

    page = alice_browser.get(change_url(cloud)).content.decode()
    listing = alice_browser.get("/admin/clouds/cloud/").content.decode()

    for html in (page, listing):
        assert SECRET not in html
        assert cloud.credentials_encrypted not in html
    assert "leave blank to keep" in page


def test_a_refused_form_does_not_echo_the_credentials_just_typed(alice_browser):
    data = new_cloud_data(option__endpoint="file:///etc/passwd")

    response = alice_browser.post("/admin/clouds/cloud/add/", data)

    assert response.status_code == 200
    assert SECRET not in response.content.decode()
    assert not Cloud.objects.filter(name="NEW-LAB-1").exists()


def test_blank_credentials_keep_the_stored_ones(alice_browser):
    cloud = CloudFactory(credentials={"access_key": "AKIA1", "secret_key": SECRET})

    data = rendered_form_data(alice_browser.get(change_url(cloud)))
    assert data["credential__access_key"] == data["credential__secret_key"] == ""
    data["description"] = "edited"
    assert alice_browser.post(change_url(cloud), data).status_code == 302

    cloud.refresh_from_db()
    assert cloud.description == "edited"
    assert cloud.credentials == {"access_key": "AKIA1", "secret_key": SECRET}


def test_new_credentials_replace_the_stored_ones(alice_browser):
    cloud = CloudFactory(credentials={"access_key": "OLD", "secret_key": "old"})

    data = rendered_form_data(alice_browser.get(change_url(cloud)))
    data.update(credential__access_key="NEW", credential__secret_key=SECRET)
    assert alice_browser.post(change_url(cloud), data).status_code == 302

    cloud.refresh_from_db()
    assert cloud.credentials == {"access_key": "NEW", "secret_key": SECRET}


def test_one_credential_typed_replaces_that_one_and_keeps_the_others(alice_browser):
    cloud = CloudFactory(credentials={"access_key": "OLD", "secret_key": SECRET})

    data = rendered_form_data(alice_browser.get(change_url(cloud)))
    data["credential__access_key"] = "NEW"
    assert alice_browser.post(change_url(cloud), data).status_code == 302

    cloud.refresh_from_db()
    assert cloud.credentials == {"access_key": "NEW", "secret_key": SECRET}


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"provider": "nope"}, "provider", "Select a valid choice"),
        ({"provider": ""}, "provider", "This field is required"),
        ({"option__region": ""}, "option__region", "This field is required"),
        ({"option__timeout": "soon"}, "option__timeout", "Enter a whole number"),
        (
            {"option__endpoint": "file:///etc/passwd"},
            "option__endpoint",
            "must be an http:// or https:// URL",
        ),
        ({"option__timeout": "-5"}, "option__timeout", "must be positive"),
        (
            {"option__endpoint": "http://169.254.169.254/"},
            "option__endpoint",
            "must not point at a cloud metadata address",
        ),
        ({"option__endpoint": "http://[fd00:ec2::254]/"}, "option__endpoint", "metadata address"),
        (
            {"option__endpoint": "http://metadata.google.internal/"},
            "option__endpoint",
            "metadata address",
        ),
        ({"option__region": "mars-1"}, "option__region", "unknown region; known:"),
        # Resolved, then checked against the cloud's outbound_allow (default: private only).
        (
            {"option__endpoint": "http://2852039166/"},
            "option__endpoint",
            "169.254.169.254",
        ),
        ({"outbound_allow": '["everywhere"]'}, "outbound_allow", "everywhere"),
        ({"max_vcpus": "99999999999999"}, "max_vcpus", "less than or equal to"),
        (
            {"credential__access_key": "", "credential__secret_key": ""},
            "credential__access_key",
            "required",
        ),
        ({"credential__access_key": "   "}, "credential__access_key", "required"),
        ({"credential__secret_key": ""}, "credential__secret_key", "required"),
        ({"max_vcpus": "-1"}, "max_vcpus", "greater than or equal to"),
        ({"quota_ram_mb": "0"}, "quota_ram_mb", "greater than or equal to 1"),
        ({"name": "has space"}, "name", "letters, digits"),
    ],
)
def test_bad_input_is_a_form_error_that_says_what_is_accepted(
    alice_browser, overrides, field, message
):
    response = alice_browser.post("/admin/clouds/cloud/add/", new_cloud_data(**overrides))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert message in " ".join(errors.get(field, [])), errors
    assert not Cloud.objects.filter(name=new_cloud_data(**overrides)["name"]).exists()


def test_a_cloud_whose_provider_changes_needs_credentials_for_the_new_one(alice_browser):
    cloud = CloudFactory(credentials={"access_key": "A", "secret_key": "B"})

    page = alice_browser.get(change_url(cloud) + "?provider=openstack")
    data = rendered_form_data(page)
    data["option__auth_url"] = "http://keystone:5000"
    response = alice_browser.post(change_url(cloud), data)

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "required" in errors["credential__username"][0]
    assert "required" in errors["credential__password"][0]
    cloud.refresh_from_db()
    assert cloud.provider == "ec2" and cloud.credentials == {"access_key": "A", "secret_key": "B"}


def test_a_duplicate_mapping_for_one_cloud_and_size_is_refused(alice_browser):
    mapping = SizeMappingFactory()

    response = alice_browser.post(
        "/admin/clouds/sizemapping/add/",
        {"cloud": mapping.cloud.pk, "size": mapping.size.pk, "provider_size_id": "other"},
    )

    assert response.status_code == 200
    assert "already exists" in str(response.context["adminform"].form.errors)


def test_a_roles_default_size_must_be_one_it_allows(alice_browser):
    small, large = AbstractSizeFactory(name="small"), AbstractSizeFactory(name="large")

    response = alice_browser.post(
        "/admin/clouds/role/add/",
        {"name": "web", "allowed_sizes": [small.pk], "default_size": large.pk},
    )

    assert response.status_code == 200
    assert "allowed sizes" in str(response.context["adminform"].form.errors["default_size"])
    assert not Role.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "/admin/clouds/cloud/?q=LAB&enabled__exact=1&provider=ec2",
        "/admin/clouds/abstractsize/?q=small&vcpus=2",
        "/admin/clouds/abstractimage/?q=centos",
        "/admin/clouds/sizemapping/?q=t3",
        "/admin/clouds/imagemapping/?q=ami",
        "/admin/clouds/environment/?q=dev",
        "/admin/clouds/role/?q=web&spread_over_hosts__exact=1",
        "/admin/clouds/cloud/add/",
        "/admin/clouds/role/add/",
    ],
)
def test_admin_pages_with_search_and_filters_answer(alice_browser, url):
    cloud = CloudFactory(name="LAB-1")
    SizeMappingFactory(cloud=cloud, size=AbstractSizeFactory(name="small"), provider_size_id="t3")
    ImageMappingFactory(cloud=cloud, image=AbstractImageFactory(name="centos-9"))
    EnvironmentFactory(name="dev")
    RoleFactory(name="web", spread_over_hosts=True)

    response = alice_browser.get(url)

    assert response.status_code == 200
    assert SECRET not in response.content.decode()


def test_the_admin_refuses_a_non_staff_user(client, bob):
    client.force_login(bob)

    response = client.get("/admin/clouds/cloud/")

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_a_save_of_the_configuration_keeps_what_pcm_recorded_meanwhile(alice_browser):
    from django.utils import timezone

    cloud = CloudFactory()
    data = rendered_form_data(alice_browser.get(change_url(cloud)))
    Cloud.objects.filter(pk=cloud.pk).update(  # a check finished while the admin was editing
        last_check_ok=True, last_check_at=timezone.now(), breaker_failures=2
    )

    assert alice_browser.post(change_url(cloud), data).status_code == 302

    cloud.refresh_from_db()
    assert cloud.last_check_ok is True and cloud.breaker_failures == 2
