"""HTTP load generators.

- `hammer`: closed loop, N clients, each sending its next request when the last one is
  answered. `wrk` is the same measure with wrk (GET only, less client CPU), when installed.
- `send_each`: one request to each of a list of URLs (DELETE of many instances), N clients.
- `at_rate`: open loop, requests sent on a fixed schedule whatever the answers so far.
"""

from __future__ import annotations

import http.client
import json
import queue
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


class _Recorder:
    """Latencies and failures, from any number of client threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.errors = 0

    def add(self, ms: float, ok: bool) -> None:
        with self.lock:
            self.latencies.append(ms)
            self.errors += 0 if ok else 1

    def summary(self, wall: float) -> dict:
        latencies = self.latencies
        return {
            "requests": len(latencies),
            "rps": round(len(latencies) / wall, 1),
            "p50_ms": round(statistics.median(latencies), 2) if latencies else None,
            "p99_ms": round(_percentile(latencies, 0.99), 2),
            "errors": self.errors,
            "client": "python",
        }


def _request(url: str, method: str, headers: dict, body: dict | None) -> int | None:
    """One request on a connection of its own: the status, or None if it failed."""
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    payload = json.dumps(body).encode() if body is not None else None
    if payload:
        headers = {**headers, "Content-Type": "application/json"}
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status
    except OSError:
        return None
    finally:
        connection.close()


def _ok(status: int | None) -> bool:
    return status is not None and 200 <= status < 300


def _run(clients: int, target) -> float:
    """Run `target(k)` on `clients` threads (k = 0..clients-1); the wall seconds."""
    threads = [threading.Thread(target=target, args=(k,)) for k in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.monotonic() - started


def hammer(
    url: str | list[str],
    headers: dict,
    *,
    clients: int = 16,
    seconds: float = 5.0,
    method: str = "GET",
    body: dict | None = None,
    limit: int | None = None,
) -> dict:
    """Requests/s, p50 and p99 in ms, and the non-2xx count. With several URLs (servers),
    client k sends to the k-th, round the list."""
    urls = [url] if isinstance(url, str) else url
    recorder = _Recorder()
    sent = [0]
    deadline = time.monotonic() + seconds

    def client(k: int) -> None:
        while time.monotonic() < deadline:
            with recorder.lock:
                if limit is not None and sent[0] >= limit:
                    return
                sent[0] += 1
            started = time.perf_counter()
            status = _request(urls[k % len(urls)], method, headers, body)
            recorder.add((time.perf_counter() - started) * 1000, _ok(status))

    return recorder.summary(_run(clients, client))


def send_each(method: str, urls: list[str], headers: dict, *, clients: int) -> dict:
    """One `method` request to each URL, from `clients` closed-loop clients."""
    todo: queue.SimpleQueue[str] = queue.SimpleQueue()
    for url in urls:
        todo.put(url)
    recorder = _Recorder()

    def client(_: int) -> None:
        while True:
            try:
                url = todo.get_nowait()
            except queue.Empty:
                return
            started = time.perf_counter()
            status = _request(url, method, headers, None)
            recorder.add((time.perf_counter() - started) * 1000, _ok(status))

    return recorder.summary(_run(clients, client))


def at_rate(
    url: str, headers: dict, *, rate: float, seconds: float, body: dict, expect: int = 202
) -> dict:
    """Open loop: POST number i is due at start + i / rate and is sent then on a thread of
    its own, however many earlier ones are still unanswered (at most rate * seconds
    threads, each ending with its answer). Latency counts from the due time, so a send
    that the loaded client makes late counts as latency (no coordinated omission).
    `achieved_per_s` is the `expect`ed answers per second of the schedule's length
    (count / rate), or of the time until the last answer when that is longer: the rate
    at which the server kept up."""
    count = round(rate * seconds)
    lock = threading.Lock()
    latencies: list[float] = []
    outcome = {"accepted": 0, "errors": 0}
    last_answer = [0.0]
    sent_at: list[float] = []  # seconds into the schedule, beside latencies

    def send(due: float) -> None:
        status = _request(url, "POST", headers, body)
        answered = time.perf_counter()
        with lock:
            latencies.append((answered - due) * 1000)
            sent_at.append(round(due - start, 2))
            outcome["accepted" if status == expect else "errors"] += 1
            last_answer[0] = max(last_answer[0], answered)

    start = time.perf_counter() + 0.05
    threads = []
    for i in range(count):
        due = start + i / rate
        time.sleep(max(0.0, due - time.perf_counter()))
        thread = threading.Thread(target=send, args=(due,), daemon=True)
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join()
    return {
        "rate_per_s": rate,
        "sent": count,
        "accepted": outcome["accepted"],
        "errors": outcome["errors"],
        "p50_ms": round(statistics.median(latencies), 1),
        "p99_ms": round(_percentile(latencies, 0.99), 1),
        "max_ms": round(max(latencies), 1),
        # When the slowest answers were due (seconds into the schedule) and their ms.
        "slowest": sorted(
            zip(sent_at, (round(ms, 1) for ms in latencies), strict=True), key=lambda s: -s[1]
        )[:5],
        "achieved_per_s": round(outcome["accepted"] / max(count / rate, last_answer[0] - start), 1),
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
