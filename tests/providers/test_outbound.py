"""Where PCM connects to (providers/outbound.py): address forms refused at save and on
every connection, redirects not followed, remote error bodies shown short and clean."""

from __future__ import annotations

import contextlib
import logging
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from providers import outbound
from providers.base import ProviderError
from providers.ec2 import EC2Provider
from providers.inventory.base import InventoryError
from providers.inventory.http import HttpInventory
from providers.openstack import OpenStackProvider
from providers.outbound import Policy

KEYS = {"access_key": "AKIDPCMTESTING", "secret_key": "pcm-moto-secret-value"}
DEFAULT = Policy()  # private ranges, no loopback, no link-local
EVERYTHING = Policy.of(outbound.WORDS)
LOOPBACK = Policy.of(["loopback"])

METADATA_FORMS = [
    "http://2852039166/",  # 169.254.169.254 as one integer
    "http://0251.0376.0251.0376/",  # in octal
    "http://0xa9.0xfe.0xa9.0xfe/",  # in hexadecimal
    "http://[::ffff:169.254.169.254]/",  # IPv4-mapped IPv6
    "http://169.254.169.254/latest/meta-data/",
    "http://[fd00:ec2::254]/",
    "http://metadata.google.internal/",
]


@contextlib.contextmanager
def local_server(answer):
    """An HTTP server on 127.0.0.1; `answer(path)` -> (status, headers, body). Yields its
    URL and the list of the paths it was asked for."""
    asked: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def _answer(self):
            asked.append(self.path)
            status, headers, body = answer(self.path)
            data = body.encode()
            self.send_response(status)
            for name, value in {**headers, "Content-Length": str(len(data))}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = _answer

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", asked
    finally:
        server.shutdown()
        server.server_close()


def ec2(url: str, policy: Policy) -> EC2Provider:
    options = EC2Provider.validate_options({"region": "us-east-1", "endpoint": url, "timeout": 5})
    return EC2Provider(options, KEYS, outbound_policy=policy)


# -- the policy -----------------------------------------------------------------------------


@pytest.mark.parametrize("url", METADATA_FORMS)
def test_every_form_of_a_metadata_address_is_refused_whatever_is_allowed(url):
    refusal = outbound.url_refusal(url, EVERYTHING)

    assert refusal and "metadata" in refusal


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("http://localhost:5000/", "loopback"),
        ("http://2130706433/", "loopback"),  # 127.0.0.1 as one integer
        ("http://[::1]/", "loopback"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),
        ("http://169.254.10.1/", "link-local"),
        ("http://[fe80::1]/", "link-local"),
        ("http://0251.0376.1.1/", "link-local"),
    ],
)
def test_loopback_and_link_local_are_refused_unless_allowed(url, kind):
    refusal = outbound.url_refusal(url, DEFAULT)

    assert refusal and f"a {kind} address" in refusal and f"outbound_allow lists {kind}" in refusal
    assert outbound.url_refusal(url, Policy.of([kind])) is None


@pytest.mark.parametrize(
    "url", ["http://0.0.0.0/", "http://[::]/", "http://224.0.0.1/", "http://240.0.0.1/"]
)
def test_addresses_no_host_has_are_refused_whatever_is_allowed(url):
    assert "not an address of a host" in outbound.url_refusal(url, EVERYTHING)


def test_private_ranges_are_allowed_by_default_and_can_be_refused():
    for url in ("http://10.0.0.5:8773/", "http://192.168.1.2/", "http://[fd12::1]/"):
        assert outbound.url_refusal(url, DEFAULT) is None
        assert "a private address" in outbound.url_refusal(url, Policy.of([]))


def test_a_public_address_is_allowed_and_an_unresolvable_name_is_left_to_the_connection():
    assert outbound.url_refusal("https://8.8.8.8/", Policy.of([])) is None
    assert outbound.url_refusal("https://no-such-host.invalid/", Policy.of([])) is None


def test_an_unknown_word_is_refused_with_the_accepted_ones():
    with pytest.raises(ValueError, match="unknown everything; accepted: private, loopback"):
        Policy.of(["everything"])


def test_debug_and_the_setting_allow_loopback_for_the_whole_site(settings):
    from providers.apps import site_policy

    settings.DEBUG, settings.PCM_OUTBOUND_ALLOW = False, []
    assert site_policy() == DEFAULT and outbound.default() == DEFAULT
    settings.DEBUG = True
    assert "loopback" in site_policy().allow and "link-local" not in site_policy().allow
    settings.DEBUG, settings.PCM_OUTBOUND_ALLOW = False, ["link-local"]
    assert outbound.default().allow == {"private", "link-local"}


# -- on every connection -------------------------------------------------------------------


def test_a_cloud_on_loopback_is_not_connected_to_without_loopback_allowed():
    with (
        local_server(lambda path: (200, {}, "")) as (url, asked),
        pytest.raises(ProviderError) as refused,
    ):
        ec2(url, DEFAULT).list()

    assert "not sent" in refused.value.message
    assert "127.0.0.1 is a loopback address" in refused.value.message
    assert refused.value.transient is False and refused.value.maybe_done is False
    assert asked == []


def test_a_name_is_checked_at_the_address_it_resolves_to_when_connecting(moto):
    """localhost was fine when saved (loopback allowed); the policy changed since."""
    allowed = ec2(moto.url.replace("127.0.0.1", "localhost"), LOOPBACK)
    assert allowed.list() == []

    with pytest.raises(
        ProviderError, match=re.escape("Refused to connect to localhost: 127.0.0.1 is a loop")
    ):
        ec2(moto.url.replace("127.0.0.1", "localhost"), DEFAULT).list()


def test_a_plugin_follows_the_site_default_when_given_no_policy(settings, moto):
    settings.PCM_OUTBOUND_ALLOW = []
    bare = EC2Provider(
        EC2Provider.validate_options({"region": "us-east-1", "endpoint": moto.url}), KEYS
    )

    with pytest.raises(ProviderError, match="loopback address"):
        bare.list()


def test_a_redirect_is_not_followed_and_says_where_it_went():
    with local_server(lambda path: (200, {}, "")) as (elsewhere, asked_elsewhere):
        redirect = (302, {"Location": f"{elsewhere}/stolen?token=secret"}, "")
        with (
            local_server(lambda path: redirect) as (url, asked),
            pytest.raises(ProviderError) as refused,
        ):
            ec2(url, LOOPBACK).list()

    assert len(asked) == 1 and asked_elsewhere == []
    assert "answered 302, a redirect to" in refused.value.message
    assert "which PCM does not follow" in refused.value.message
    assert "secret" not in refused.value.message  # the query (a token, a signature) is not shown


def test_a_redirect_to_the_metadata_address_is_not_followed():
    redirect = (301, {"Location": "http://169.254.169.254/latest/meta-data/"}, "")
    where = re.escape("169.254.169.254/latest/meta-data/, which PCM")
    with (
        local_server(lambda path: redirect) as (url, asked),
        pytest.raises(ProviderError, match=where),
    ):
        ec2(url, LOOPBACK).list()

    assert len(asked) == 1


def test_the_identity_service_a_driver_opens_on_its_own_is_checked_too():
    """OpenStack's driver asks Keystone through a connection of its own making."""
    redirect = (302, {"Location": "http://169.254.169.254/"}, "")
    with local_server(lambda path: redirect) as (url, asked):
        options = OpenStackProvider.validate_options({"auth_url": url, "tenant_name": "t"})
        secrets = {"username": "u", "password": "p4ssword"}
        with pytest.raises(ProviderError, match=re.escape("127.0.0.1 is a loopback address")):
            OpenStackProvider(options, secrets, outbound_policy=DEFAULT).list()
        assert asked == []
        with pytest.raises(ProviderError, match="/v3/auth/tokens answered 302, a redirect"):
            OpenStackProvider(options, secrets, outbound_policy=LOOPBACK).list()
    assert asked == ["/v3/auth/tokens"]


def test_an_inventory_is_checked_and_redirects_are_not_followed():
    inventory = {"base_url": None, "timeout": 2}
    with local_server(lambda path: (307, {"Location": "http://10.1.1.1/names"}, "")) as (url, _):
        inventory["base_url"] = url
        with pytest.raises(
            InventoryError, match=re.escape("answered 307, a redirect to http://10.1.1.1")
        ):
            HttpInventory(inventory, {"token": "t0ken"}, outbound_policy=LOOPBACK).release(
                cloud="c", name="n"
            )
        with pytest.raises(
            InventoryError, match=re.escape("127.0.0.1 is a loopback address")
        ) as refused:
            HttpInventory(inventory, {"token": "t0ken"}, outbound_policy=DEFAULT).release(
                cloud="c", name="n"
            )
    assert refused.value.transient is False


# -- remote error bodies ------------------------------------------------------------------

# An error body with a forged log line, a right-to-left override, a credential and more
# text than any client needs.
LONG = "x" * 5000
CLOUD_BODY = (
    "<Response><Errors><Error><Code>InternalError</Code><Message>Failed\r\nINFO forged line"
    f"\u202egnp.exe pcm-moto-secret-value {LONG} END-OF-BODY</Message></Error></Errors></Response>"
)
INVENTORY_BODY = (
    "Traceback\x1b[31m\r\nINFO forged line\x00 the-inventory-token " + LONG + " END-OF-BODY"
)


def _clean(text: str) -> bool:
    return not any(ord(char) < 32 or ord(char) == 127 or char == "\u202e" for char in text)


def test_a_cloud_error_body_reaches_the_client_short_and_clean_and_the_log_whole(caplog):
    caplog.set_level(logging.WARNING, logger="providers.base")
    answer = (500, {"Content-Type": "text/xml"}, CLOUD_BODY)
    with local_server(lambda path: answer) as (url, _), pytest.raises(ProviderError) as failed:
        ec2(url, LOOPBACK).list()

    error = failed.value
    assert error.message.startswith("The cloud answered 500 to the list")
    assert len(error.message) <= 2 * outbound.SHORT and len(error.provider_detail) <= outbound.SHORT
    assert _clean(error.message) and _clean(error.provider_detail)
    assert "pcm-moto-secret-value" not in error.message + error.provider_detail + caplog.text
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "END-OF-BODY" in logged and "Failed\\nINFO forged line" in logged  # whole, escaped
    assert "\nINFO forged" not in logged  # no forged log line


def test_an_inventory_error_body_reaches_the_client_short_and_clean_and_the_log_whole(caplog):
    caplog.set_level(logging.WARNING, logger="providers.inventory.http")
    with local_server(lambda path: (500, {}, INVENTORY_BODY)) as (url, _):
        inventory = HttpInventory(
            {"base_url": url, "timeout": 2},
            {"token": "the-inventory-token"},
            outbound_policy=LOOPBACK,
        )
        with pytest.raises(InventoryError) as failed:
            inventory.reserve(cloud="c", role="web", environment="dev", pcm_id="p")

    message = failed.value.message
    assert message.startswith("The Inventory answered 500 to POST /names: Traceback [31m INFO")
    assert len(message) <= 250 and _clean(message) and "END-OF-BODY" not in message
    assert "the-inventory-token" not in message + caplog.text
    assert "END-OF-BODY" in caplog.text and "\\x1b[31m\\r\\nINFO forged line\\x00" in caplog.text


def test_short_keeps_a_short_clean_text_as_it_is():
    assert outbound.short("The image ami-1 does not exist") == "The image ami-1 does not exist"
    assert outbound.short("a\tb\n\nc") == "a b c"
    assert outbound.short("y" * 300) == "y" * 199 + "…"


# -- the environment's proxy ------------------------------------------------------------------


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "http_proxy"])
def test_a_provider_call_goes_through_the_environments_proxy(monkeypatch, variable):
    # requests' environment is read once per libcloud connection (not per request): the
    # proxy named there is still the one every call goes through.
    with local_server(lambda path: (503, {}, "proxy says no")) as (url, asked):
        monkeypatch.setenv(variable, url)
        provider = ec2("http://cloud.example.invalid:8773/", LOOPBACK)

        with pytest.raises(ProviderError):
            provider.list()

    assert asked and asked[0].startswith("http://cloud.example.invalid:8773/")


def test_a_host_named_in_no_proxy_is_reached_directly(monkeypatch):
    with local_server(lambda path: (503, {}, "proxy says no")) as (url, asked):
        monkeypatch.setenv("HTTP_PROXY", url)
        monkeypatch.setenv("NO_PROXY", "cloud.example.invalid")
        provider = ec2("http://cloud.example.invalid:8773/", LOOPBACK)

        with pytest.raises(ProviderError):
            provider.list()

    assert asked == []
