"""A webhook receiver on 127.0.0.1 for the tests: it checks each signature as
docs/webhooks.md tells receivers to, and answers with the statuses it is given."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def verified(secret: str, header: str, body: bytes, tolerance: int = 300) -> bool:
    """The receiver's check of PCM-Signature (the same lines as docs/webhooks.md)."""
    fields = dict(part.split("=", 1) for part in header.split(","))
    expected = hmac.new(secret.encode(), f"{fields['t']}.".encode() + body, hashlib.sha256)
    fresh = abs(time.time() - int(fields["t"])) <= tolerance
    return fresh and hmac.compare_digest(expected.hexdigest(), fields["v1"])


class Receiver:
    def __init__(self, secret: str, statuses: list[int] | None = None, hang: float = 0):
        self.secret = secret
        self.statuses = list(statuses or [])  # answered in turn; then 200
        self.hang = hang
        self.received: list[dict] = []  # the events whose signature was right
        self.forged = 0
        self.requests = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                receiver.requests += 1
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.hang:
                    time.sleep(receiver.hang)
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                if verified(receiver.secret, self.headers["PCM-Signature"], body):
                    event = json.loads(body)
                    assert self.headers["PCM-Event-Id"] == event["id"]
                    if 200 <= status < 300:
                        receiver.received.append(event)
                else:
                    receiver.forged += 1
                    status = 401
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"no" if status >= 300 else b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def types(self) -> list[str]:
        """The types heard, in the order PCM recorded the events: deliveries are tasks of
        their own, taken from the queue in no set order (docs/webhooks.md)."""
        return [event["type"] for event in sorted(self.received, key=lambda e: e["created_at"])]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
