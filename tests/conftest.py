"""Shared fixtures: named users and API clients.

alice is an administrator (staff, superuser); bob is an API user with a token who operates
every cloud; anonymous has no credentials at all.
"""

from __future__ import annotations

import io
import os

import pytest
from django.conf import settings
from django.core.management import call_command
from rest_framework.test import APIClient

from tests import openstack_lab, peers
from tests.factories import UserFactory, api_key

# The peers (moto, mimic, the fault proxy, the Inventory server) listen on 127.0.0.1: the
# site allows loopback, here and in the processes the tests start (a qcluster). Django's
# settings are read before this file, so both are set. Tests of the policy set their own.
os.environ.setdefault("PCM_OUTBOUND_ALLOW", "loopback")
settings.PCM_OUTBOUND_ALLOW = [*settings.PCM_OUTBOUND_ALLOW, "loopback"]


@pytest.fixture(autouse=True)
def fresh_throttles():
    """Throttle counts live in the cache: each test starts with none."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """PBKDF2 at full strength would make every user in every test cost ~0.3 s."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def alice(db):
    return UserFactory(username="alice", is_staff=True, is_superuser=True)


@pytest.fixture
def bob(db):
    """An operator of every cloud."""
    from django.contrib.auth.models import Group

    from clouds.models import CloudAccess

    user = UserFactory(username="bob")
    operators, _ = Group.objects.get_or_create(name="operators")
    CloudAccess.objects.get_or_create(group=operators, cloud=None, level="operate")
    user.groups.add(operators)
    return user


@pytest.fixture
def api(bob) -> APIClient:
    """bob's client, authenticated with his token as a script would be."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_key(bob)}")
    return client


@pytest.fixture
def anonymous() -> APIClient:
    return APIClient()


@pytest.fixture
def alice_browser(client, alice):
    """alice logged in through a session, as in a browser (admin, browsable API)."""
    client.force_login(alice)
    return client


@pytest.fixture
def demo(db):
    """The demo configuration from fixtures/, loaded the way `make run` loads it."""
    call_command("pcm_demo", stdout=io.StringIO())


@pytest.fixture(scope="session")
def peers_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("peers")


@pytest.fixture(scope="session")
def moto_session(peers_dir):
    with peers.moto_server(peers_dir) as moto:
        yield moto


@pytest.fixture
def moto(moto_session):
    """A moto EC2 server, reset to empty before the test."""
    moto_session.reset()
    return moto_session


@pytest.fixture(scope="session")
def mimic(peers_dir):
    """A mimic OpenStack server; each test takes a tenant of its own (Mimic.options())."""
    with peers.mimic_server(peers_dir) as server:
        yield server


@pytest.fixture(scope="session")
def openstack_session(tmp_path_factory):
    """The real OpenStack (tests/openstack_lab.py), started once for the session."""
    reason = openstack_lab.missing()
    if reason and openstack_lab.required():
        pytest.fail(f"{reason}, and PCM_REQUIRE_OPENSTACK is set: the OpenStack tests must run")
    if reason:
        pytest.skip(reason)
    with openstack_lab.openstack_cloud(tmp_path_factory.mktemp("openstack")) as cloud:
        yield cloud


@pytest.fixture
def openstack(openstack_session):
    """The real OpenStack; the servers of the projects a test made are deleted after it."""
    yield openstack_session
    for tenant in openstack_session.tenants:
        openstack_session.remove_servers(tenant)
    openstack_session.tenants.clear()


# The instance API's fixtures (a worker, bob's client, clouds at the peers), shared by the
# instance and security tests.
from tests.lifecycle import (  # noqa: E402, F401
    aws,
    catalogue,
    client_api,
    ec2_calls,
    openstack_tenant,
    snv,
    snv_openstack,
    worker,
)
