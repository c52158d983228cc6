"""A circuit breaker per cloud, kept in the cloud's row so that every web and worker
process shares it.

After PCM_BREAKER_THRESHOLD consecutive failures to reach a cloud (transient errors:
down, timeouts, 5xx) the breaker opens: calls fail at once, without a network round trip,
for PCM_BREAKER_COOLDOWN seconds. Then one call (the probe) is let through; its success
closes the breaker, its failure keeps it open for another cooldown.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from clouds.models import Cloud
from providers.base import ProviderError


class CircuitOpen(ProviderError):
    def __init__(self, name: str, seconds: int):
        super().__init__(
            f"Cloud {name} failed {settings.PCM_BREAKER_THRESHOLD} times in a row: calls are "
            f"stopped for {seconds} s (circuit breaker open)",
            transient=True,
            maybe_done=False,  # refused here: the call never left
        )


class CloudBreaker:
    """The guard a cloud's Provider calls around each provider call."""

    def __init__(self, cloud: Cloud):
        self.pk = cloud.pk
        self.name = cloud.name
        self._clean = False  # the last look found no failure to forget

    def _rows(self):
        return Cloud.objects.filter(pk=self.pk)

    def before_call(self) -> None:
        now = timezone.now()
        failures, state = self._rows().values_list("breaker_failures", "breaker_open_until").get()
        self._clean = failures == 0 and state is None
        if state is None:
            return
        if state > now:
            raise CircuitOpen(self.name, int((state - now).total_seconds()) + 1)
        # Half-open: the first caller to push the deadline on is the probe.
        cooldown = timedelta(seconds=settings.PCM_BREAKER_COOLDOWN)
        if (
            not self._rows()
            .filter(breaker_open_until=state)
            .update(breaker_open_until=now + cooldown)
        ):
            raise CircuitOpen(self.name, settings.PCM_BREAKER_COOLDOWN)

    def after_call(self, *, reached: bool) -> None:
        """`reached`: the cloud answered (even with an error of ours, like a bad id)."""
        if reached:
            if not self._clean:  # no write when there is nothing to forget (the usual case)
                self._rows().update(breaker_failures=0, breaker_open_until=None)
            return
        self._rows().update(breaker_failures=F("breaker_failures") + 1)
        cooldown = timedelta(seconds=settings.PCM_BREAKER_COOLDOWN)
        self._rows().filter(
            breaker_failures__gte=settings.PCM_BREAKER_THRESHOLD, breaker_open_until=None
        ).update(breaker_open_until=timezone.now() + cooldown)

    def is_open(self) -> bool:
        until = self._rows().values_list("breaker_open_until", flat=True).first()
        return until is not None and until > timezone.now()
