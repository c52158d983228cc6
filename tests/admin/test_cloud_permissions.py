"""The cloud list's actions and buttons call the provider and write what it answers: staff
who may only view clouds get neither the actions nor the buttons, and cannot post them."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from clouds.models import Cloud
from tests.factories import CloudFactory, UserFactory

pytestmark = pytest.mark.django_db

LIST = "/admin/clouds/cloud/"
ACTIONS = ("test_connection", "sync_catalogue", "check_mappings")


def staff(client, *codenames: str):
    user = UserFactory(username="carol", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    client.force_login(user)
    return client


@pytest.fixture
def viewer(client):
    return staff(client, "view_cloud")


@pytest.fixture
def editor(client):
    return staff(client, "view_cloud", "change_cloud")


def test_a_viewer_is_offered_no_action_and_no_reload_button(viewer):
    CloudFactory()

    html = viewer.get(LIST).content.decode()

    for action in ACTIONS:
        assert f'value="{action}"' not in html
    assert "reload-plugins/" not in html


@pytest.mark.parametrize("action", ACTIONS)
def test_a_viewer_cannot_post_an_action(viewer, action):
    cloud = CloudFactory()

    response = viewer.post(LIST, {"action": action, "_selected_action": [cloud.pk]}, follow=True)

    assert response.status_code == 200
    cloud.refresh_from_db()
    assert cloud.last_check_at is None and not cloud.catalogue.exists()
    messages = [str(m) for m in response.context["messages"]]
    assert not any(m.startswith(cloud.name) for m in messages), messages


def test_a_viewer_cannot_reload_the_plugins(viewer):
    response = viewer.get(f"{LIST}reload-plugins/", follow=True)

    assert [str(m) for m in response.context["messages"]] == [
        "You may not reload the provider plugins."
    ]


def test_a_viewer_sees_the_options_but_no_field_and_no_secret(viewer):
    cloud = CloudFactory(options={"region": "eu-west-1"}, credentials={"access_key": "AKSEEN"})

    html = viewer.get(f"{LIST}{cloud.pk}/change/").content.decode()

    assert "&quot;region&quot;: &quot;eu-west-1&quot;" in html
    assert 'name="option__' not in html and 'name="credential__' not in html
    assert "AKSEEN" not in html


def test_an_editor_is_offered_the_actions_and_runs_them(editor):
    cloud = CloudFactory()  # a closed port: the check fails, and says so

    html = editor.get(LIST).content.decode()
    response = editor.post(
        LIST, {"action": "test_connection", "_selected_action": [cloud.pk]}, follow=True
    )

    for action in ACTIONS:
        assert f'value="{action}"' in html
    assert "reload-plugins/" in html
    assert any(str(m).startswith(f"{cloud.name}: ") for m in response.context["messages"])
    assert Cloud.objects.get(pk=cloud.pk).last_check_ok is False
