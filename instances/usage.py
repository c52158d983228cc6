"""What a cloud's live instances use: the figures its quotas are checked against.

`cloud_usage` counts one cloud (the quota check, the admin); `annotate_usage` adds the
same figures to a queryset of clouds as three subqueries, so that a page of clouds costs
one query however many clouds it shows.
"""

from __future__ import annotations

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from clouds.models import Cloud
from instances.models import Instance

FIGURES = {"instances": Count("pk"), "vcpus": Sum("size__vcpus"), "ram_mb": Sum("size__ram_mb")}


def cloud_usage(cloud: Cloud) -> dict[str, int]:
    usage = Instance.objects.filter(cloud=cloud).live().aggregate(**FIGURES)
    return {key: value or 0 for key, value in usage.items()}


def annotate_usage(clouds: QuerySet[Cloud]) -> QuerySet[Cloud]:
    """`clouds` with usage_instances, usage_vcpus and usage_ram_mb."""
    live = Instance.objects.live().filter(cloud=OuterRef("pk")).order_by().values("cloud")

    def total(aggregate):
        figure = Subquery(live.annotate(figure=aggregate).values("figure"))
        return Coalesce(figure, 0, output_field=IntegerField())

    return clouds.annotate(**{f"usage_{key}": total(agg) for key, agg in FIGURES.items()})
