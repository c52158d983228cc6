"""PCM's settings plus what only the benchmarks need: the baseline endpoint, no throttling."""

from pcm.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
PCM_THROTTLE_USER = ""
PCM_THROTTLE_ANON = ""
# moto and the latency proxy the benchmarks start listen on 127.0.0.1.
PCM_OUTBOUND_ALLOW = [*PCM_OUTBOUND_ALLOW, "loopback"]  # noqa: F405
