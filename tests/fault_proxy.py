"""An HTTP proxy in front of a real peer that injects faults: throttling answers, delays.
The peer still does the real work; the proxy only adds what clouds do under load."""

from __future__ import annotations

import contextlib
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

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
        self.lock = threading.Lock()


@contextlib.contextmanager
def proxy(target: str, faults: Faults):
    class Handler(BaseHTTPRequestHandler):
        def _forward(self) -> None:
            with faults.lock:
                faults.requests += 1
                throttle = faults.throttle_next > 0
                if throttle:
                    faults.throttle_next -= 1
                    faults.throttled += 1
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
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
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
