"""The cloud and Inventory backend forms: the chosen plugin's own options as fields, its
credentials as password fields that never carry a value, free-form options as JSON."""

from __future__ import annotations

import re

import pytest

from clouds.models import Cloud, InventoryBackend
from providers import registry
from providers.base import Option, Provider
from tests.admin_forms import rendered_form_data
from tests.factories import CloudFactory

pytestmark = pytest.mark.django_db

SECRET = "PLANTED-SECRET-91c2"
ADD = "/admin/clouds/cloud/add/"
NO_INLINES = {
    f"{prefix}-{count}": "0"
    for prefix in ("size_mappings", "image_mappings", "subnet_mappings", "access")
    for count in ("TOTAL_FORMS", "INITIAL_FORMS")
}


def change_url(cloud: Cloud) -> str:
    return f"/admin/clouds/cloud/{cloud.pk}/change/"


def input_tag(html: str, name: str) -> str:
    """The whole tag of the form control called `name` (input, select or textarea)."""
    match = re.search(rf'<(input|select|textarea)[^>]*name="{re.escape(name)}"[^>]*>', html)
    assert match, f"no control {name}"
    return match.group(0)


@pytest.mark.parametrize("key", sorted(registry.plugins()))
def test_the_add_page_shows_the_chosen_plugins_own_fields_only(alice_browser, key):
    plugin = registry.get(key)
    others = {
        option.name
        for other, cls in registry.plugins().items()
        if other != key
        for option in cls.options
    } - {option.name for option in plugin.options}

    html = alice_browser.get(f"{ADD}?provider={key}").content.decode()

    for option in plugin.public_options():
        tag = input_tag(html, f"option__{option.name}")
        assert (" required" in tag) is option.required, tag
    for option in plugin.secret_options():
        tag = input_tag(html, f"credential__{option.name}")
        assert tag.startswith("<textarea") if option.kind == "text" else 'type="password"' in tag
        assert " required" not in tag  # blank keeps the stored one
    for name in others:
        assert f'name="option__{name}"' not in html and f'name="credential__{name}"' not in html
    assert 'name="options"' not in html and 'name="credentials"' not in html


def test_the_kinds_become_the_right_controls(alice_browser):
    html = alice_browser.get(f"{ADD}?provider=openstack").content.decode()

    assert input_tag(html, "option__timeout").startswith('<input type="number"')
    assert input_tag(html, "option__auth_url").startswith('<input type="url"')
    versions = html[html.index('name="option__auth_version"') :].split("</select>")[0]
    assert (
        '<option value="2.0_password">' in versions and '<option value="3.x_password">' in versions
    )
    assert "Keystone API and method (default 3.x_password)" in html  # the option's help
    assert "leave blank to keep the stored value" in html


def test_an_add_page_without_a_plugin_asks_for_one(alice_browser):
    html = alice_browser.get(ADD).content.decode()

    assert "Choose a plugin above" in html
    assert 'name="option__' not in html


def test_a_cloud_page_shows_its_options_and_never_its_credentials(alice_browser):
    cloud = CloudFactory(
        options={"region": "eu-west-1", "timeout": 7},
        credentials={"access_key": "AK", "secret_key": SECRET},
    )

    html = alice_browser.get(change_url(cloud)).content.decode()

    assert 'value="eu-west-1"' in input_tag(html, "option__region")
    assert 'value="7"' in input_tag(html, "option__timeout")
    for name in ("credential__access_key", "credential__secret_key"):
        assert "value=" not in input_tag(html, name)
    assert SECRET not in html and "AK" not in re.findall(r'value="([^"]*)"', html)


def test_options_saved_from_the_fields_are_the_plugins_cleaned_options(alice_browser):
    cloud = CloudFactory()
    data = rendered_form_data(alice_browser.get(change_url(cloud)))
    data.update(option__region=" eu-west-1 ", option__timeout="30", option__endpoint="")

    assert alice_browser.post(change_url(cloud), data).status_code == 302

    cloud.refresh_from_db()
    assert cloud.options == {"region": "eu-west-1", "timeout": 30}


def test_the_provider_changed_in_the_url_renders_its_fields_with_what_was_typed(alice_browser):
    cloud = CloudFactory(description="old", credentials={"access_key": "AK", "secret_key": SECRET})

    page = alice_browser.get(
        change_url(cloud) + "?provider=openstack&description=typed&option__region=r1"
    )
    html = page.content.decode()

    assert '<option value="openstack" selected>' in html
    assert 'name="option__auth_url"' in html and 'name="option__image_owner"' not in html
    assert ">\ntyped</textarea>" in html
    assert 'value="r1"' in input_tag(html, "option__region")  # a name both plugins take
    assert SECRET not in html


def test_a_changed_provider_with_its_credentials_replaces_the_old_ones(alice_browser):
    cloud = CloudFactory(credentials={"access_key": "AK", "secret_key": SECRET})
    data = rendered_form_data(alice_browser.get(change_url(cloud) + "?provider=openstack"))
    data.update(
        option__auth_url="http://keystone.example:5000",
        credential__username="demo",
        credential__password="pw",
    )

    assert alice_browser.post(change_url(cloud), data).status_code == 302

    cloud.refresh_from_db()
    assert cloud.provider == "openstack"
    assert cloud.options == {"auth_url": "http://keystone.example:5000"}
    assert cloud.credentials == {"username": "demo", "password": "pw"}


def test_forget_drops_an_optional_credential(alice_browser):
    cloud = CloudFactory(
        provider="libvirt",
        options={"uri": "qemu+tcp://kvm1/system"},
        credentials={"username": "u", "password": SECRET},
    )
    kept = rendered_form_data(alice_browser.get(change_url(cloud)))
    assert alice_browser.post(change_url(cloud), kept).status_code == 302
    cloud.refresh_from_db()
    assert cloud.credentials == {"username": "u", "password": SECRET}

    data = rendered_form_data(alice_browser.get(change_url(cloud)))
    data.update(forget_credentials="on", credential__username="v")
    assert alice_browser.post(change_url(cloud), data).status_code == 302

    cloud.refresh_from_db()
    assert cloud.credentials == {"username": "v"}


def test_a_refused_save_keeps_the_stored_credentials_and_shows_none(alice_browser):
    cloud = CloudFactory(credentials={"access_key": "AK", "secret_key": "old"})
    data = rendered_form_data(alice_browser.get(change_url(cloud)))
    data.update(credential__secret_key=SECRET, option__timeout="0")

    response = alice_browser.post(change_url(cloud), data)

    assert response.status_code == 200
    assert "must be positive" in response.context["adminform"].form.errors["option__timeout"][0]
    assert SECRET not in response.content.decode()
    cloud.refresh_from_db()
    assert cloud.credentials == {"access_key": "AK", "secret_key": "old"}


class ToyProvider(Provider):
    """A plugin with a free-form option, as a third-party plugin may declare one."""

    key = "toy"
    label = "Toy cloud"
    options = (
        Option("zone", "Zone", required=True),
        Option("labels", "Labels put on every machine", kind="json"),
        Option("token", "API token", required=True, secret=True),
    )


@pytest.fixture
def toy(monkeypatch):
    monkeypatch.setitem(registry.plugins(), "toy", ToyProvider)
    return ToyProvider


def test_a_free_form_option_is_a_json_field(alice_browser, toy):
    html = alice_browser.get(f"{ADD}?provider=toy").content.decode()
    assert input_tag(html, "option__labels").startswith("<textarea")
    data = {
        "name": "TOY-1",
        "provider": "toy",
        "enabled": "on",
        "option__zone": "z1",
        "option__labels": '{"team": "infra", "tier": [1, 2]}',
        "credential__token": SECRET,
        **NO_INLINES,
    }

    refused = alice_browser.post(ADD, {**data, "option__labels": '{"team": '})
    wrong_type = alice_browser.post(ADD, {**data, "option__labels": '"infra"'})
    saved = alice_browser.post(ADD, data)

    assert "Enter a valid JSON" in refused.context["adminform"].form.errors["option__labels"][0]
    errors = wrong_type.context["adminform"].form.errors["option__labels"]
    assert "must be a JSON object or list" in errors[0]
    assert saved.status_code == 302
    cloud = Cloud.objects.get(name="TOY-1")
    assert cloud.options == {"zone": "z1", "labels": {"team": "infra", "tier": [1, 2]}}
    assert cloud.credentials == {"token": SECRET}
    page = alice_browser.get(change_url(cloud)).content.decode()
    assert "&quot;team&quot;: &quot;infra&quot;" in page


def test_an_inventory_backend_has_its_plugins_fields(alice_browser):
    add = "/admin/clouds/inventorybackend/add/"
    html = alice_browser.get(f"{add}?plugin=http").content.decode()
    assert 'type="password"' in input_tag(html, "credential__token")
    assert input_tag(html, "option__base_url").startswith('<input type="url"')

    response = alice_browser.post(
        add,
        {
            "name": "corp",
            "plugin": "http",
            "option__base_url": "https://inventory.example/api",
            "option__timeout": "5",
            "credential__token": SECRET,
        },
    )

    assert response.status_code == 302
    backend = InventoryBackend.objects.get(name="corp")
    assert backend.options == {"base_url": "https://inventory.example/api", "timeout": 5}
    assert backend.credentials == {"token": SECRET}
    builtin = alice_browser.get(f"{add}?plugin=builtin").content.decode()
    assert 'name="option__template"' in builtin and 'name="credential__' not in builtin


def test_a_json_field_carried_in_the_url_is_shown_as_the_json_typed(alice_browser):
    html = alice_browser.get(f'{ADD}?provider=ec2&extra_allowed=["iamprofile"]').content.decode()

    assert "[&quot;iamprofile&quot;]</textarea>" in html
