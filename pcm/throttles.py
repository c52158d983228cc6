"""Per-user (and per-address, for anonymous clients) request rates, from the environment:
PCM_THROTTLE_USER and PCM_THROTTLE_ANON, e.g. "600/min". Read on each request, so a
changed setting applies without a restart of the class machinery."""

from django.conf import settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


class UserThrottle(UserRateThrottle):
    def get_rate(self):
        return settings.PCM_THROTTLE_USER or None


class AnonThrottle(AnonRateThrottle):
    def get_rate(self):
        return settings.PCM_THROTTLE_ANON or None
