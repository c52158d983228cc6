"""Provider faults: a cloud that is down, hangs, throttles; and the circuit breaker."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from clouds.breaker import CloudBreaker
from clouds.models import Cloud
from clouds.services import provider_for
from instances.models import Instance
from providers.base import Provider, ProviderError
from tests import fault_proxy, peers

pytestmark = pytest.mark.django_db

URL = "/pcm_api/v2/clouds/AWSLAB-1/instances"


@pytest.fixture
def running(client_api, aws, worker):
    body = client_api.post(URL, {"size": "small"}).json()
    worker.run()
    return body


def point_at(cloud, url, timeout=2):
    cloud.options = {**cloud.options, "endpoint": url, "timeout": timeout}
    cloud.save()


def test_a_cloud_down_leaves_stored_reads_working_and_refresh_a_fast_503(client_api, aws, running):
    point_at(aws, peers.closed_port_url())

    stored = client_api.get(f"{URL}/{running['id']}")
    started = time.monotonic()
    live = client_api.get(f"{URL}/{running['id']}?refresh=true")

    assert stored.status_code == 200 and stored.json()["status"] == "running"
    assert live.status_code == 503
    assert time.monotonic() - started < 2


def test_a_create_against_a_cloud_that_hangs_ends_in_error_and_never_hangs(
    client_api, aws, worker, settings
):
    with peers.black_hole() as url:
        body = client_api.post(URL, {"size": "small"}).json()
        point_at(aws, url, timeout=1)
        started = time.monotonic()
        worker.run()
        elapsed = time.monotonic() - started

    instance = Instance.objects.get(pk=body["id"])
    assert instance.status == "error"
    assert "did not answer" in instance.last_error
    # Each attempt is cut at the 1 s timeout (the retries' own waits are queued, not slept).
    assert elapsed < settings.PCM_MAX_ATTEMPTS * 3


def test_throttled_calls_are_retried_with_backoff_and_succeed(moto, aws, monkeypatch):
    monkeypatch.setattr(Provider, "throttle_backoff", 0.05)
    faults = fault_proxy.Faults()
    with fault_proxy.proxy(moto.url, faults) as url:
        point_at(aws, url, timeout=5)
        faults.throttle_next = 2

        nodes = provider_for(aws).list()

    assert nodes == []
    assert faults.throttled == 2 and faults.requests == 3


def test_throttling_retries_are_bounded(moto, aws, monkeypatch):
    monkeypatch.setattr(Provider, "throttle_backoff", 0.05)
    faults = fault_proxy.Faults()
    with fault_proxy.proxy(moto.url, faults) as url:
        point_at(aws, url, timeout=5)
        faults.throttle_next = 100

        with pytest.raises(ProviderError) as error:
            provider_for(aws).list()

    assert faults.requests == Provider.throttle_retries + 1
    assert "RequestLimitExceeded" in error.value.provider_detail


def test_a_throttled_create_is_retried_and_makes_one_node(
    moto, aws, client_api, worker, monkeypatch
):
    monkeypatch.setattr(Provider, "throttle_backoff", 0.05)
    faults = fault_proxy.Faults()
    with fault_proxy.proxy(moto.url, faults) as url:
        body = client_api.post(URL, {"size": "small"}).json()
        point_at(aws, url, timeout=5)
        faults.throttle_next = 1
        worker.run()

    assert Instance.objects.get(pk=body["id"]).status == "running"
    point_at(aws, moto.url)
    assert len([n for n in provider_for(aws).list() if n.status != "deleted"]) == 1


def test_the_breaker_opens_after_consecutive_failures_and_then_fails_fast(
    client_api, aws, running, settings
):
    settings.PCM_BREAKER_THRESHOLD = 3
    point_at(aws, peers.closed_port_url())
    for _ in range(3):
        assert client_api.get(f"{URL}/{running['id']}?refresh=true").status_code == 503
    assert CloudBreaker(aws).is_open()

    started = time.monotonic()
    response = client_api.get(f"{URL}/{running['id']}?refresh=true")
    elapsed = time.monotonic() - started

    assert response.status_code == 503
    assert "circuit breaker open" in response.json()["message"]
    assert elapsed < 0.05
    refused = client_api.post(URL, {"size": "small"})
    assert refused.status_code == 503 and "circuit breaker open" in refused.json()["message"]


def test_a_successful_probe_closes_the_breaker(client_api, aws, running, moto, settings):
    settings.PCM_BREAKER_THRESHOLD = 2
    point_at(aws, peers.closed_port_url())
    for _ in range(2):
        client_api.get(f"{URL}/{running['id']}?refresh=true")
    point_at(aws, moto.url)  # the cloud is back
    assert client_api.get(f"{URL}/{running['id']}?refresh=true").status_code == 503  # still open

    Cloud.objects.filter(pk=aws.pk).update(breaker_open_until=timezone.now() - timedelta(seconds=1))
    probe = client_api.get(f"{URL}/{running['id']}?refresh=true")

    assert probe.status_code == 200
    assert not CloudBreaker(aws).is_open()
    assert Cloud.objects.get(pk=aws.pk).breaker_failures == 0


def test_a_failed_probe_keeps_it_open(client_api, aws, running, settings):
    settings.PCM_BREAKER_THRESHOLD = 1
    point_at(aws, peers.closed_port_url())
    client_api.get(f"{URL}/{running['id']}?refresh=true")
    Cloud.objects.filter(pk=aws.pk).update(breaker_open_until=timezone.now() - timedelta(seconds=1))

    client_api.get(f"{URL}/{running['id']}?refresh=true")  # the probe, failing

    assert CloudBreaker(aws).is_open()


def test_errors_of_our_own_do_not_open_the_breaker(aws, settings, moto):
    settings.PCM_BREAKER_THRESHOLD = 2
    provider = provider_for(aws)
    for _ in range(3):
        assert provider.get("i-0123456789abcdef0") is None  # the cloud answered: no such id

    assert not CloudBreaker(aws).is_open()
