"""The chaos proxy (tests/fault_proxy/) injects each fault it claims to, against the real
peers: moto for EC2, mimic for OpenStack. Each test fails if its fault is not injected,
and asserts what a client sees through Apache Libcloud (the surprises are the point)."""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from libcloud.common.exceptions import BaseHTTPError, RateLimitReachedError
from libcloud.compute.drivers.ec2 import EC2NodeDriver
from libcloud.compute.drivers.openstack import OpenStack_1_1_NodeDriver

from providers.base import CreateOptions, NotFoundAtProvider, Provider, ProviderError
from providers.ec2 import EC2Provider
from providers.openstack import OpenStackProvider
from tests.fault_proxy import Faults, proxy

TIMEOUT = 1  # seconds: the client's timeout; late answers come later than this
CONSISTENCY = 1.0  # seconds a new node stays invisible


@dataclass
class Cloud:
    dialect: str
    faults: Faults
    url: str  # the proxy's
    provider: Provider  # through the proxy
    direct: Provider  # straight to the peer: the truth
    size: str
    image: str

    def create(self, pcm_id: str):
        return self.provider.create(pcm_id, self.size, self.image, CreateOptions(pcm_id=pcm_id))

    def ids_at_peer(self) -> set[str]:
        return {node.provider_id for node in self.direct.list() if node.status != "deleted"}


@contextlib.contextmanager
def chaos(dialect: str, peer):
    """A proxy with no fault set in front of the peer, and providers both ways."""
    faults = Faults()
    with proxy(peer.url, faults) as url:
        if dialect == "ec2":
            credentials = {"access_key": "a", "secret_key": "b"}
            options = {"region": "us-east-1", "timeout": TIMEOUT}
            provider = EC2Provider({**options, "endpoint": url}, credentials)
            direct = EC2Provider({**options, "endpoint": peer.url, "timeout": 10}, credentials)
            direct.list()  # moto builds its backend at the first call (about 1 s)
            yield Cloud(dialect, faults, url, provider, direct, "t3.small", "ami-760aaa0f")
        else:
            options, credentials = peer.options()
            proxied = {**options, "auth_url": f"{url}/identity", "timeout": TIMEOUT}
            provider = OpenStackProvider(proxied, credentials)
            direct = OpenStackProvider(options, credentials)
            image = direct.driver.list_images()[0].id
            yield Cloud(dialect, faults, url, provider, direct, "2", image)


@pytest.fixture(params=["ec2", "nova"])
def cloud(request):
    peer = request.getfixturevalue("moto" if request.param == "ec2" else "mimic")
    with chaos(request.param, peer) as cloud:
        yield cloud


@pytest.fixture
def ec2(moto):
    with chaos("ec2", moto) as cloud:
        yield cloud


@pytest.fixture
def nova(mimic):
    with chaos("nova", mimic) as cloud:
        yield cloud


def test_nova_calls_go_through_the_proxy_by_its_rewritten_catalogue(nova):
    """mimic's catalogue names its own address whatever the Host header: unrewritten,
    libcloud would authenticate through the proxy and then call Nova past it."""
    made = nova.create("pcm-1")
    nova.provider.get(made.provider_id)

    endpoint = nova.provider.driver.connection.get_endpoint()
    assert endpoint.startswith(nova.url) and "/mimicking/NovaApi-" in endpoint
    actions = [action for action, _ in nova.faults.seen]
    assert actions == ["POST tokens", "POST servers", "GET servers/{id}"]
    assert nova.faults.created == [("nova", "pcm-1", next(iter(nova.ids_at_peer())))]


def test_eventual_consistency_hides_a_new_node_by_id_and_in_lists_then_shows_it(cloud):
    cloud.faults.consistency_delay = CONSISTENCY
    # (libcloud's own Nova create reads the server back by id after the POST, so there
    # the create itself failed, though the server existed; PCM's plugin creates in one POST.)
    node_id = cloud.create("pcm-1").provider_id
    started = time.monotonic()

    assert cloud.provider.get(node_id) is None
    assert node_id not in {node.provider_id for node in cloud.provider.list()}
    with pytest.raises(NotFoundAtProvider) as refused:
        cloud.provider.reboot(node_id)
    assert node_id in cloud.ids_at_peer()
    assert time.monotonic() - started < CONSISTENCY  # all of it inside the window
    if cloud.dialect == "ec2":
        assert f"InvalidInstanceID.NotFound: The instance ID '{node_id}' does not exist" in str(
            refused.value.provider_detail
        )

    time.sleep(CONSISTENCY - (time.monotonic() - started) + 0.05)
    assert cloud.provider.get(node_id) is not None
    assert node_id in {node.provider_id for node in cloud.provider.list()}
    assert cloud.faults.injected["hidden_by_consistency"] >= 3


def test_a_late_create_answer_times_out_while_the_node_exists(cloud):
    cloud.faults.late_creates = 1
    cloud.faults.late_by = TIMEOUT + 1.5
    started = time.monotonic()

    with pytest.raises(ProviderError, match=f"did not answer the create within {TIMEOUT} s"):
        cloud.create("pcm-late")

    assert time.monotonic() - started < TIMEOUT + 0.5
    assert cloud.direct.find("pcm-late") is not None
    assert cloud.faults.creates("pcm-late") == 1
    assert cloud.faults.injected["late_create"] == 1
    cloud.create("pcm-next")  # one create only: the next is answered in time


def test_the_proxy_exits_at_once_while_it_holds_a_late_answer(moto):
    with chaos("ec2", moto) as cloud:
        cloud.faults.late_creates, cloud.faults.late_by = 1, 30
        with pytest.raises(ProviderError):
            cloud.create("pcm-late")
        exiting = time.monotonic()
    assert time.monotonic() - exiting < 1


def test_a_connection_reset_after_forwarding_loses_the_answer_not_the_node(cloud):
    cloud.faults.reset_after_forward = 1
    cloud.faults.reset_calls = "create"
    cloud.provider.list()  # a read: not what the reset is aimed at

    with pytest.raises(requests.exceptions.ConnectionError) as reset:
        cloud.provider.driver.create_node(
            name="pcm-reset",
            size=cloud.provider._size_arg(cloud.provider.driver, cloud.size),
            image=cloud.provider._image_arg(cloud.provider.driver, cloud.image),
        )

    assert "Connection reset by peer" in str(reset.value)  # an RST, not a clean close
    assert len(cloud.ids_at_peer()) == 1
    assert cloud.faults.injected == Counter(reset=1)
    with pytest.raises(ProviderError, match="Cannot reach the cloud for the destroy"):
        cloud.faults.reset_after_forward, cloud.faults.reset_calls = 1, "write"
        cloud.provider.destroy(next(iter(cloud.ids_at_peer())))


def test_a_burst_of_5xx_refuses_calls_without_running_them(cloud):
    cloud.faults.errors_next = 1
    with pytest.raises(ProviderError, match="answered 503") as unavailable:
        cloud.create("pcm-1")
    cloud.faults.errors_next, cloud.faults.error_status = 1, 500
    with pytest.raises(ProviderError, match="answered 500") as internal:
        cloud.create("pcm-1")

    expected = {"ec2": ("Unavailable", "InternalError"), "nova": ("Service Unavailable", "")}
    assert expected[cloud.dialect][0] in unavailable.value.provider_detail
    assert expected[cloud.dialect][1] in internal.value.provider_detail
    assert unavailable.value.transient and internal.value.transient
    assert cloud.ids_at_peer() == set() and cloud.faults.created == []
    cloud.create("pcm-1")
    assert len(cloud.ids_at_peer()) == 1
    assert cloud.faults.injected == Counter(error_5xx=2)


def test_throttling_in_each_dialect_and_retried_by_the_provider(cloud, monkeypatch):
    cloud.faults.throttle_next = 1
    with pytest.raises(BaseHTTPError) as throttled:
        cloud.provider.driver.list_nodes()
    if cloud.dialect == "nova":
        # libcloud maps any 429 to RateLimitReachedError, with Retry-After read.
        assert isinstance(throttled.value, RateLimitReachedError)
        assert throttled.value.retry_after == 1
    else:
        assert throttled.value.code == 503 and "RequestLimitExceeded" in str(throttled.value)

    monkeypatch.setattr(Provider, "throttle_backoff", 0.01)
    cloud.faults.throttle_next = 2
    assert cloud.provider.list() == []
    assert cloud.faults.throttled == 3 and cloud.faults.injected == Counter(throttle=3)


def _nova_pages(cloud: Cloud, params: dict) -> list[list[str]]:
    """Follow servers_links from a first page, as Nova's clients should."""
    pages = []
    connection = cloud.provider.driver.connection
    while True:
        data = connection.request("/servers/detail", params=params).object
        pages.append([server["id"] for server in data["servers"]])
        links = [link["href"] for link in data.get("servers_links", []) if link["rel"] == "next"]
        if not links:
            return pages
        assert links[0].startswith(cloud.url)
        params = dict(parse_qsl(urlsplit(links[0]).query))


def test_nova_small_pages_link_to_the_next_and_together_hold_every_server(nova):
    for number in range(5):
        nova.create(f"pcm-{number}")
    every = nova.ids_at_peer()
    nova.faults.page_size = 2

    pages = _nova_pages(nova, {})
    assert [len(page) for page in pages] == [2, 2, 1]
    assert set().union(*pages) == every
    assert _nova_pages(nova, {"limit": 1})[0] == pages[0][:1]  # min(limit, page size)
    with pytest.raises(BaseHTTPError, match=r"marker \[nope\] not found") as unknown:
        nova.provider.driver.connection.request("/servers/detail", params={"marker": "nope"})
    assert unknown.value.code == 400
    # libcloud's own Nova 1.1 driver reads only the first page, silently; PCM's plugin
    # follows servers_links with either API version.
    stock = OpenStack_1_1_NodeDriver.list_nodes(nova.provider.driver)
    assert len(stock) == 2
    assert len(nova.provider.list()) == 5
    options = {**nova.provider.settings, "api_version": "2.0"}
    options["base_url"] = nova.provider.driver.connection.get_endpoint()
    assert len(OpenStackProvider(options, nova.provider.credentials).list()) == 5
    assert nova.faults.injected["small_page"] >= 4

    nova.faults.consistency_delay = 30
    nova.create("pcm-hidden")
    assert set().union(*_nova_pages(nova, {})) == every  # the new one left out of every page


def _ec2_pages(cloud: Cloud) -> list[list[str]]:
    """DescribeInstances, following nextToken."""
    pages, params = [], {"Action": "DescribeInstances"}
    while True:
        body = cloud.provider.driver.connection.request("/", params=params).body
        pages.append(sorted(set(re.findall(r"<instanceId>([^<]+)</instanceId>", body))))
        token = re.search(r"<nextToken>([^<]+)</nextToken>", body)
        if token is None:
            return pages
        params = {"Action": "DescribeInstances", "NextToken": token[1]}


def test_ec2_small_pages_need_next_token_and_keep_it_when_a_node_is_hidden(ec2):
    ec2.faults.consistency_delay = 30
    hidden = ec2.create("pcm-hidden").provider_id  # the first reservation of the list
    ec2.faults.consistency_delay = 0
    for number in range(4):
        ec2.create(f"pcm-{number}")
    visible = ec2.ids_at_peer() - {hidden}
    ec2.faults.page_size = 2

    pages = _ec2_pages(ec2)
    assert [len(page) for page in pages] == [1, 2, 1]  # the first cut short, its token kept
    assert set().union(*pages) == visible and hidden in ec2.ids_at_peer()
    assert ec2.faults.injected["hidden_by_consistency"] == 1
    assert ec2.faults.injected["small_page"] >= 2
    # libcloud's own EC2 list_nodes does not follow nextToken: one page, silently. PCM's
    # plugin follows it (its list and its find by tag).
    assert len(EC2NodeDriver.list_nodes(ec2.provider.driver)) == 1
    assert {node.provider_id for node in ec2.provider.list()} == visible
    # Asking by id: EC2 refuses MaxResults beside ids, so none is added.
    assert ec2.provider.get(pages[2][0]) is not None


def test_a_repeated_ec2_client_token_gets_the_first_instance(ec2):
    first = ec2.create("pcm-1")  # PCM sends its instance id as the ClientToken
    again = ec2.create("pcm-1")

    assert again.provider_id == first.provider_id
    assert ec2.ids_at_peer() == {first.provider_id}
    assert ec2.faults.tokens("RunInstances") == ["pcm-1", "pcm-1"]
    assert ec2.faults.injected == Counter(token_replay=1)

    # Two at once: the second waits for the first's answer instead of launching.
    ec2.faults.delay = 0.3
    results = []

    def create() -> None:  # a provider per thread: libcloud's connections are not shared
        provider = EC2Provider(ec2.provider.settings, ec2.provider.credentials)
        results.append(provider.create("b", ec2.size, ec2.image, CreateOptions(pcm_id="pcm-2")))

    threads = [threading.Thread(target=create) for _ in "ab"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 2 and len({node.provider_id for node in results}) == 1
    assert ec2.faults.injected == Counter(token_replay=2)
    assert ec2.faults.create_counts() == Counter({"pcm-1": 1, "pcm-2": 1})

    # moto alone ignores the token: the proxy is what honours it.
    ec2.faults.honour_client_tokens, ec2.faults.delay = False, 0
    ec2.create("pcm-3")
    ec2.create("pcm-3")
    assert ec2.faults.creates("pcm-3") == 2 and len(ec2.ids_at_peer()) == 4


def test_random_mode_injects_every_kind_and_retries_with_a_token_make_no_duplicate(
    ec2, monkeypatch
):
    monkeypatch.setattr(Provider, "throttle_backoff", 0.01)
    ec2.faults.consistency_delay, ec2.faults.late_by = 0.3, TIMEOUT + 0.2
    rates = {"consistency": 1.0, "late_create": 0.1, "reset": 0.15, "errors": 0.15}
    ec2.faults.randomly({**rates, "throttle": 0.15}, seed=7)
    kinds = {"late_create", "reset", "error_5xx", "throttle", "hidden_by_consistency"}
    pcm_ids: list[str] = []
    failures = 0

    while len(pcm_ids) < 10 or not kinds <= set(ec2.faults.injected):
        assert len(pcm_ids) < 60, f"not every kind injected: {ec2.faults.injected}"
        pcm_ids.append(pcm_id := f"pcm-{len(pcm_ids)}")
        for _ in range(20):  # a create is retried with the same token until it is answered
            try:
                ec2.create(pcm_id)
                break
            except ProviderError:
                failures += 1
        with contextlib.suppress(ProviderError):
            ec2.provider.list()
    ec2.faults.randomly(None)
    print("soak:", len(pcm_ids), "creates;", dict(ec2.faults.injected), "; failed:", failures)

    assert ec2.faults.injected["token_replay"] >= 1  # retries after a reset or a late answer
    assert ec2.faults.create_counts() == Counter(dict.fromkeys(pcm_ids, 1))
    assert len(ec2.ids_at_peer()) == len(pcm_ids)
    with pytest.raises(ValueError, match="unknown fault kinds"):
        ec2.faults.randomly({"meteor": 1.0})
