"""An HTTP proxy in front of a real peer that injects faults: throttling answers, delays.
The peer still does the real work; the proxy only adds what clouds do under load. It also
writes down each EC2 call it sees (action and ClientToken), so that a test can count the
creates that reached the provider, not only the nodes: EC2 answers a repeated ClientToken
with the node it made the first time, so a count of nodes alone could hide a second call."""

from __future__ import annotations

import contextlib
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import requests

EC2_THROTTLED = (
    '<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error>'
    "<Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message>"
    "</Error></Errors><RequestID>pcm-test</RequestID></Response>"
)


class Faults:
    def __init__(self):
        self.throttle_next = 0  # answer this many requests with EC2's RequestLimitExceeded
        self.delay = 0.0  # seconds added before each forwarded request
        self.requests = 0
        self.throttled = 0
        self.seen: list[tuple[str, str]] = []  # (EC2 action, ClientToken) of each request
        self.lock = threading.Lock()

    def tokens(self, action: str) -> list[str]:
        """The client tokens of the requests of one EC2 action, in order."""
        with self.lock:
            return [token for name, token in self.seen if name == action]


def _ec2_call(path: str, body: bytes | None) -> tuple[str, str]:
    """Action and ClientToken of EC2's query API: in the query string or a form body."""
    params = parse_qs(urlsplit(path).query)
    if body:
        for key, values in parse_qs(body.decode("utf-8", "replace")).items():
            params.setdefault(key, []).extend(values)
    return params.get("Action", [""])[0], params.get("ClientToken", [""])[0]


@contextlib.contextmanager
def proxy(target: str, faults: Faults):
    class Handler(BaseHTTPRequestHandler):
        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            with faults.lock:
                faults.requests += 1
                faults.seen.append(_ec2_call(self.path, body))
                throttle = faults.throttle_next > 0
                if throttle:
                    faults.throttle_next -= 1
                    faults.throttled += 1
            if throttle:
                self._send(503, EC2_THROTTLED.encode(), "text/xml")
                return
            if faults.delay:
                time.sleep(faults.delay)
            headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
            answer = requests.request(
                self.command, target + self.path, data=body, headers=headers, timeout=60
            )
            self._send(answer.status_code, answer.content, answer.headers.get("Content-Type"))

        def _send(self, status: int, data: bytes, content_type: str | None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type or "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = _forward

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
