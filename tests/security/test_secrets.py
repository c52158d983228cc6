"""A planted credential appears nowhere: API answers, admin pages, logs at DEBUG, task
arguments and results, error bodies, events. Keys rotate without losing one."""

from __future__ import annotations

import io
import logging

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django_q.models import OrmQ, Task
from django_q.signing import SignedPackage

from clouds import crypto
from clouds.models import Cloud, InventoryBackend
from instances.models import InstanceEvent
from tests import peers
from tests.factories import CloudFactory

pytestmark = pytest.mark.django_db

SECRET = "PLANTED-7f3a9c-SECRET"
URL = "/pcm_api/v2/clouds/AWSLAB-1/instances"


def test_a_planted_secret_is_nowhere(client_api, alice_browser, aws, worker, caplog):
    aws.credentials = {"access_key": "AKIDPLANTED", "secret_key": SECRET}
    aws.save()
    seen: list[str] = []

    with caplog.at_level(logging.DEBUG):
        created = client_api.post(URL, {"size": "small"})
        body = created.json()
        seen.append(created.content.decode())
        seen += [SignedPackage.loads(q.payload).__repr__() for q in OrmQ.objects.all()]
        worker.run()
        one = f"{URL}/{body['id']}"
        for path in (
            one,
            f"{one}?refresh=true",
            f"{one}/events",
            f"{one}/console_log",
            URL,
            "/pcm_api/v2/clouds/AWSLAB-1",
            "/pcm_api/v2/clouds",
            "/pcm_api/v2/instances",
        ):
            seen.append(
                client_api.get(
                    path + ("&" if "?" in path else "?") + "details=true"
                ).content.decode()
            )
        seen.append(client_api.put(one, {"status": "paused"}).content.decode())  # an error body
        client_api.delete(one)
        worker.run()
        # and the cloud down: errors from the provider layer
        aws.options = {**aws.options, "endpoint": peers.closed_port_url(), "timeout": 2}
        aws.save()
        seen.append(client_api.get(f"{one}?refresh=true&details=true").content.decode())
        for path in (
            "/admin/clouds/cloud/",
            f"/admin/clouds/cloud/{aws.pk}/change/",
            f"/admin/instances/instance/{body['id']}/change/",
        ):
            seen.append(alice_browser.get(path).content.decode())

    seen.append(caplog.text)
    # The tasks' arguments and results, as the in-process worker ran them (a qcluster
    # would save them in django-q2's Task table: that too, should there be any).
    assert {func.rsplit(".", 1)[1] for func, *_ in worker.history} >= {"provision", "delete"}
    seen += [repr(task) for task in worker.history]
    seen += [repr(task.args) + repr(task.result) for task in Task.objects.all()]
    seen += [event.error for event in InstanceEvent.objects.all()]
    everything = "\n".join(seen)
    assert "Linux version" in everything  # the console was read: the test saw real answers
    assert f"'{body['id']}'" in everything  # and the task arguments: the instance's id
    assert "Cannot reach the cloud" in everything
    assert SECRET not in everything
    assert aws.credentials_encrypted not in everything


def test_keys_rotate_and_the_old_key_can_go(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.PCM_ENCRYPTION_KEYS = [old]
    clouds = [
        CloudFactory(credentials={"access_key": f"A{n}", "secret_key": SECRET}) for n in range(3)
    ]
    backend = InventoryBackend(name="corp", plugin="http", options={"base_url": "http://x"})
    backend.credentials = {"token": SECRET}
    backend.save()

    settings.PCM_ENCRYPTION_KEYS = [new, old]  # add the new key in front
    out = io.StringIO()
    call_command("pcm_rotate_keys", stdout=out)
    settings.PCM_ENCRYPTION_KEYS = [new]  # drop the old one

    assert out.getvalue().startswith("4 credentials re-encrypted")
    for cloud in clouds:
        assert Cloud.objects.get(pk=cloud.pk).credentials["secret_key"] == SECRET
    assert InventoryBackend.objects.get().credentials == {"token": SECRET}


def test_without_rotation_dropping_the_old_key_loses_access(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.PCM_ENCRYPTION_KEYS = [old]
    cloud = CloudFactory()
    settings.PCM_ENCRYPTION_KEYS = [new]

    with pytest.raises(crypto.DecryptionError):
        _ = Cloud.objects.get(pk=cloud.pk).credentials
