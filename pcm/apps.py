from django.apps import AppConfig


class PcmConfig(AppConfig):
    """The project itself, as an app for what belongs to no other: worker heartbeats."""

    name = "pcm"
    verbose_name = "PCM"

    def ready(self) -> None:
        from django_q.signals import post_spawn, pre_execute

        from pcm import auth_schema, health  # noqa: F401 (auth_schema: registered by import)

        # In a qcluster worker, its start and each task it starts say the worker is alive
        # (so /readyz is ready as soon as a cluster is up, not a minute later).
        post_spawn.connect(health.task_started, dispatch_uid="pcm-worker-spawned")
        pre_execute.connect(health.task_started, dispatch_uid="pcm-worker-heartbeat")
