"""PCM's settings plus what only the benchmarks need: the baseline endpoint, no throttling."""

from pcm.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
PCM_THROTTLE_USER = ""
PCM_THROTTLE_ANON = ""
