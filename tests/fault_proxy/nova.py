"""The OpenStack dialect: Keystone tokens and Nova's JSON servers API.

mimic serves Nova under `/mimicking/NovaApi-<hash>/<region>/v2/<tenant>/servers...` and
writes absolute URLs to itself (its listening address, whatever Host the request carried)
into the Keystone service catalogue and into every `links` of Nova's answers. A client that
authenticated through the proxy would then talk to mimic directly, past the proxy: so every
JSON answer has the peer's base URL replaced by the proxy's (`point_at_proxy`).

Nova pages listings with `limit` and `marker` (the id after which to start), cut at
`[api] max_limit`, and adds a `servers_links` "next" link when a page is full. With a
`page_size` set, the proxy does that paging itself for every listing (mimic pages the same
way natively, but a page of its own would be cut before the proxy leaves hidden nodes out),
so `limit` and `marker` are taken off the forwarded request. Without one, the peer's own
pages pass through (a real Nova whose `max_limit` is small), each with its hidden servers
left out: each page is then one request to the peer, as it is for the client.

A real Nova (its Keystone elsewhere) is put behind the proxy by pointing the client's
compute endpoint at it (the OpenStack plugin's `base_url`); its links name Nova itself, and
are rewritten to the proxy like mimic's.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from tests.fault_proxy.dialect import Answer, Call

_SERVERS = re.compile(r"/servers(?:/(?P<id>[^/]+))?(?P<rest>/.*)?$")
_JSON = "application/json"


def parse(method: str, path: str, body: bytes | None) -> Call:
    parts = urlsplit(path)
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    route = parts.path.rstrip("/")
    if route.endswith("/tokens"):
        return Call("keystone", method, path, body, action=f"{method} tokens", params=params)
    kind = "read" if method in ("GET", "HEAD") else "write"
    match = _SERVERS.search(route)
    if match is None:  # flavours, images, limits...: faults apply, no node is named
        segments = route.rsplit("/", 2)[1:]
        tail = "/".join(segments) if segments[-1] == "detail" else segments[-1]
        return Call("nova", method, path, body, action=f"{method} {tail}", kind=kind)
    node, rest = match["id"], match["rest"] or ""
    is_list = method == "GET" and node in (None, "detail") and not rest
    pcm_id = ""
    if method == "POST" and node is None:
        kind = "create"
        pcm_id = str(_metadata(body).get("pcm_id", ""))
    ids = (node,) if node and node != "detail" else ()
    name = "servers" + (f"/{node}" if node == "detail" else "/{id}" if node else "") + rest
    return Call(
        "nova",
        method,
        path,
        body,
        action=f"{method} {name}",
        kind=kind,
        ids=ids,
        is_list=is_list,
        pcm_id=pcm_id,
        params=params,
    )


def _metadata(body: bytes | None) -> dict[str, Any]:
    try:
        return json.loads(body or b"{}").get("server", {}).get("metadata") or {}
    except (ValueError, AttributeError):
        return {}


def _json(status: int, data: Any, headers: dict[str, str] | None = None) -> Answer:
    return Answer(status, json.dumps(data).encode(), _JSON, headers or {})


def throttle() -> Answer:
    # Nova's rate limiting (and Repose in front of Rackspace's) answers 429 overLimit.
    fault = {"code": 429, "message": "This request was rate-limited.", "retryAfter": "1"}
    return _json(429, {"overLimit": fault}, {"Retry-After": "1"})


def refusal(status: int) -> Answer:
    if status == 503:
        fault = {"serviceUnavailable": {"code": 503, "message": "Service Unavailable"}}
    else:
        message = "Unexpected API Error. Please report this at http://bugs.launchpad.net/nova/"
        fault = {"computeFault": {"code": status, "message": message}}
    return _json(status, fault)


def not_found(ids: list[str]) -> Answer:
    message = f"Instance {ids[0]} could not be found."
    return _json(404, {"itemNotFound": {"code": 404, "message": message}})


def _bad_request(message: str) -> Answer:
    return _json(400, {"badRequest": {"code": 400, "message": message}})


def prepare(call: Call, page_size: int | None) -> tuple[str, bytes | None]:
    """With a page size, a listing is fetched whole: the proxy pages it (see the module's
    docstring); without, the peer's own pages pass through."""
    if not (call.is_list and page_size):
        return call.path, call.body
    parts = urlsplit(call.path)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in ("limit", "marker")]
    return urlunsplit(parts._replace(query=urlencode(query))), call.body


def created_ids(call: Call, answer: Answer) -> list[str]:
    try:
        server = json.loads(answer.body).get("server") or {}
    except (ValueError, AttributeError):
        return []
    return [str(server["id"])] if server.get("id") else []


def shape_list(
    call: Call, answer: Answer, hidden: set[str], page_size: int | None, proxy_url: str
) -> tuple[Answer, int, bool]:
    """Leave hidden servers out, then page as Nova does: start after `marker`, at most
    min(limit, page_size) servers, and a "next" link when the page is full. Returns the
    answer, how many servers were left out, and whether page_size cut the page."""
    data = json.loads(answer.body)
    every = data.get("servers") or []
    if not page_size:  # the peer's own page, and its own next link
        data["servers"] = [server for server in every if server.get("id") not in hidden]
        return _json(answer.status, data), len(every) - len(data["servers"]), False
    marker = call.params.get("marker")
    if marker is not None:
        position = next((i for i, s in enumerate(every) if s.get("id") == marker), None)
        if position is None:
            return _bad_request(f"marker [{marker}] not found"), 0, False
        every = every[position + 1 :]
    servers = [server for server in every if server.get("id") not in hidden]
    omitted = len(every) - len(servers)
    limits = [page_size] if page_size else []
    if "limit" in call.params:
        try:
            limits.append(int(call.params["limit"]))
        except ValueError:
            return _bad_request("limit param must be an integer"), 0, False
        if limits[-1] < 0:
            return _bad_request("limit param must be positive"), 0, False
    limit = min(limits) if limits else None
    page = servers[:limit] if limit is not None else servers
    data["servers"] = page
    data.pop("servers_links", None)
    if limit and len(page) == limit:
        parts = urlsplit(call.path)
        query = dict(parse_qsl(parts.query))
        query.update(limit=str(limit), marker=page[-1]["id"])
        href = f"{proxy_url}{parts.path}?{urlencode(query)}"
        data["servers_links"] = [{"rel": "next", "href": href}]
    cut = bool(page_size) and len(servers) > len(page) and limit == page_size
    return _json(answer.status, data), omitted, cut


def point_at_proxy(answer: Answer, peer_url: str, proxy_url: str) -> Answer:
    """Every URL of the peer in a JSON answer (catalogue, links) made to go through the
    proxy. JSON-aware, so the body stays valid whatever its escaping."""
    if "json" not in answer.content_type:
        return answer
    try:
        data = json.loads(answer.body)
    except ValueError:
        return answer

    def rewrite(value: Any) -> Any:
        if isinstance(value, str) and value.startswith(peer_url):
            rest = value[len(peer_url) :]
            if not rest or rest[0] in "/?#":
                return proxy_url + rest
        if isinstance(value, dict):
            return {key: rewrite(item) for key, item in value.items()}
        if isinstance(value, list):
            return [rewrite(item) for item in value]
        return value

    body = json.dumps(rewrite(data)).encode()
    return Answer(answer.status, body, answer.content_type, answer.headers)
