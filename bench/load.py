"""A small closed-loop HTTP load generator: N clients, each sending its next request when
the last one is answered. wrk is used instead when it is installed (less client CPU)."""

from __future__ import annotations

import http.client
import json
import re
import shutil
import statistics
import subprocess
import threading
import time
from urllib.parse import urlsplit


def _percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def hammer(
    url: str,
    headers: dict,
    *,
    clients: int = 16,
    seconds: float = 5.0,
    method: str = "GET",
    body: dict | None = None,
    limit: int | None = None,
) -> dict:
    """Requests/s, p50 and p99 in ms, and the non-2xx count."""
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    payload = json.dumps(body).encode() if body is not None else None
    send_headers = {**headers, "Content-Type": "application/json"} if payload else dict(headers)
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    sent = [0]
    deadline = time.monotonic() + seconds

    def client() -> None:
        while time.monotonic() < deadline:
            with lock:
                if limit is not None and sent[0] >= limit:
                    return
                sent[0] += 1
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
            started = time.perf_counter()
            try:
                connection.request(method, path, body=payload, headers=send_headers)
                response = connection.getresponse()
                response.read()
                ok = 200 <= response.status < 300
            except OSError:
                ok = False
            finally:
                connection.close()
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                latencies.append(elapsed)
                errors[0] += 0 if ok else 1

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.monotonic() - started
    return {
        "requests": len(latencies),
        "rps": round(len(latencies) / wall, 1),
        "p50_ms": round(statistics.median(latencies), 2) if latencies else None,
        "p99_ms": round(_percentile(latencies, 0.99), 2),
        "errors": errors[0],
        "client": "python",
    }


def wrk(url: str, headers: dict, *, clients: int = 16, seconds: int = 5) -> dict | None:
    """The same measure with wrk (GET only), or None when wrk is not installed."""
    if not shutil.which("wrk"):
        return None
    command = ["wrk", "-t2", f"-c{clients}", f"-d{seconds}s", "--latency", url]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout

    def ms(label: str) -> float:
        match = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", out)
        value, unit = float(match.group(1)), match.group(2)
        return round(value / 1000 if unit == "us" else value * 1000 if unit == "s" else value, 2)

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50_ms": ms("50"),
        "p99_ms": ms("99"),
        "errors": int(errors.group(1)) if errors else 0,
        "client": "wrk",
    }
