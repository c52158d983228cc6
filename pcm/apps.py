from django.apps import AppConfig


class PcmConfig(AppConfig):
    """The project itself, as an app for what belongs to no other: worker heartbeats."""

    name = "pcm"
    verbose_name = "PCM"

    def ready(self) -> None:
        from django_q.signals import pre_execute

        from pcm import health

        # In a qcluster worker, each task it starts says the worker is alive.
        pre_execute.connect(health.task_started, dispatch_uid="pcm-worker-heartbeat")
