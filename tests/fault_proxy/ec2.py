"""The EC2 query API dialect: what a call names, and how EC2 words its faults.

EC2 calls are `Action=...` parameters in the query string (libcloud) or a form body (boto).
Errors are XML `<Response><Errors><Error><Code>` documents; an instance that does not exist
yet (eventual consistency right after RunInstances) is a 400 InvalidInstanceID.NotFound.

moto's namespace is `http://ec2.amazonaws.com/doc/2016-11-15` without AWS's trailing slash,
and PCM's response class normalises it with a regex on `xmlns="..."`: a rewritten document
must keep its namespace as a plain default `xmlns="..."`, which `default_namespace=` does.
"""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from tests.fault_proxy.dialect import Answer, Call

EC2_THROTTLED = (
    '<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error>'
    "<Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message>"
    "</Error></Errors><RequestID>pcm-test</RequestID></Response>"
)

# Verbs of the actions that change something; Describe*/Get* are reads.
_WRITE_VERBS = (
    "Run",
    "Terminate",
    "Reboot",
    "Stop",
    "Start",
    "Create",
    "Delete",
    "Modify",
    "Associate",
    "Disassociate",
    "Attach",
    "Detach",
    "Allocate",
    "Release",
    "Import",
    "Authorize",
    "Revoke",
)
_INSTANCE_ID = re.compile(r"InstanceId(\.\d+)?")
_CREATED_ID = re.compile(rb"<instanceId>([^<]+)</instanceId>")
_TAG_KEY = re.compile(r"TagSpecification\.\d+\.Tag\.(\d+)\.Key")

_FAULTS = {
    500: ("InternalError", "An internal error has occurred"),
    503: ("Unavailable", "The server is overloaded and can't handle the request."),
}


def _params(path: str, body: bytes | None) -> tuple[dict[str, str], bool]:
    """The call's parameters and whether they came in the query string (else a form)."""
    query = dict(parse_qsl(urlsplit(path).query, keep_blank_values=True))
    if "Action" in query:
        return query, True
    form = {}
    if body and not body.lstrip().startswith((b"{", b"[")):
        form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    return {**query, **form}, False


def is_ec2(path: str, body: bytes | None) -> bool:
    return "Action" in _params(path, body)[0]


def parse(method: str, path: str, body: bytes | None) -> Call:
    params, _ = _params(path, body)
    action = params.get("Action", "")
    ids = tuple(value for key, value in params.items() if _INSTANCE_ID.fullmatch(key))
    kind = "read"
    if action == "RunInstances":
        kind = "create"
    elif action.startswith(_WRITE_VERBS):
        kind = "write"
    pcm_id = ""
    for key, value in params.items():
        match = _TAG_KEY.fullmatch(key)
        if match and value == "pcm_id":
            pcm_id = params.get(key.removesuffix("Key") + "Value", "")
    return Call(
        dialect="ec2",
        method=method,
        path=path,
        body=body,
        action=action,
        kind=kind,
        ids=ids,
        is_list=action == "DescribeInstances" and not ids,
        token=params.get("ClientToken", ""),
        pcm_id=pcm_id,
        params=params,
    )


def _error(status: int, code: str, message: str) -> Answer:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>'
        f"<Code>{code}</Code><Message>{message}</Message></Error></Errors>"
        f"<RequestID>{uuid.uuid4()}</RequestID></Response>"
    )
    return Answer(status, body.encode(), "text/xml;charset=UTF-8")


def throttle() -> Answer:
    # EC2 answers RequestLimitExceeded with a 503.
    return Answer(503, EC2_THROTTLED.encode(), "text/xml")


def refusal(status: int) -> Answer:
    code, message = _FAULTS.get(status, _FAULTS[500])
    return _error(status, code, message)


def not_found(ids: list[str]) -> Answer:
    if len(ids) == 1:
        message = f"The instance ID '{ids[0]}' does not exist"
    else:
        message = f"The instance IDs '{', '.join(ids)}' do not exist"
    return _error(400, "InvalidInstanceID.NotFound", message)


def prepare(call: Call, page_size: int | None) -> tuple[str, bytes | None]:
    """The request to forward: with small pages, a listing asks for MaxResults of at most
    `page_size` (EC2 refuses MaxResults beside instance ids, hence listings only)."""
    if not (call.is_list and page_size):
        return call.path, call.body
    params, in_query = _params(call.path, call.body)
    given = int(params.get("MaxResults") or 0) or None
    params["MaxResults"] = str(min(given or page_size, page_size))
    if in_query:
        parts = urlsplit(call.path)
        return urlunsplit(parts._replace(query=urlencode(params))), call.body
    query = urlsplit(call.path).query
    form = {k: v for k, v in params.items() if k not in dict(parse_qsl(query))}
    return call.path, urlencode(form).encode()


def created_ids(call: Call, answer: Answer) -> list[str]:
    """The ids of the instances a RunInstances answer reports."""
    return [match.decode() for match in _CREATED_ID.findall(answer.body)]


def shape_list(
    call: Call, answer: Answer, hidden: set[str], page_size: int | None, proxy_url: str
) -> tuple[Answer, int, bool]:
    """Leave hidden instances out of a DescribeInstances answer (a page may come out short;
    its nextToken stays). Returns the answer, how many were left out, and whether the page
    was cut by the proxy's page size (there is a next page)."""
    cut = bool(page_size) and b"<nextToken>" in answer.body
    if not hidden or not any(node.encode() in answer.body for node in hidden):
        return answer, 0, cut
    root = ET.fromstring(answer.body)  # noqa: S314 (the answer of our own local peer)
    namespace = root.tag[1:].split("}")[0] if root.tag.startswith("{") else ""
    omitted = 0
    for reservations in root.findall(".//{*}reservationSet"):
        for reservation in list(reservations):
            for instances in reservation.findall("{*}instancesSet"):
                for item in list(instances):
                    if item.findtext("{*}instanceId") in hidden:
                        instances.remove(item)
                        omitted += 1
                if len(instances) == 0:
                    reservations.remove(reservation)
    if not omitted:
        return answer, 0, cut
    text = ET.tostring(root, encoding="unicode", default_namespace=namespace or None)
    body = f'<?xml version="1.0" encoding="UTF-8"?>\n{text}'.encode()
    return Answer(answer.status, body, answer.content_type, answer.headers), omitted, cut
