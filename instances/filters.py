"""Query-string filters of instance lists."""

import datetime

import django_filters
from django.core.exceptions import ValidationError
from django_filters.fields import IsoDateTimeField
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema_field

from instances.choices import InstanceStatus
from instances.models import Instance
from instances.tags import filter_by_tags


@extend_schema_field({"type": "array", "items": {"type": "string"}, "example": ["team:web"]})
class TagFilter(django_filters.CharFilter):
    """`?tag=KEY:VALUE`, repeatable: every one must match (`?tag=KEY`: has the key)."""

    def filter(self, queryset, value):
        terms = self.parent.data.getlist(self.field_name)  # the query string's QueryDict
        return filter_by_tags(queryset, terms) if terms else queryset


class GivenTimeField(IsoDateTimeField):
    """An ISO 8601 time; given empty (`?expires_before=`) it is an error, not "no filter"."""

    def clean(self, value):
        if value == "":
            raise ValidationError("give an ISO 8601 time, e.g. 2026-12-24T18:00:00Z")
        moment = super().clean(value)
        if moment is None:
            return None
        # In UTC: PostgreSQL refuses offsets beyond 15:59 that Python takes ("-17:59").
        try:
            return moment.astimezone(datetime.UTC)
        except (OverflowError, ValueError):
            raise ValidationError("the time is out of range") from None


class GivenTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = GivenTimeField


class InstanceFilter(django_filters.FilterSet):
    """The filters of one cloud's instance list (the cloud is the path's)."""

    status = django_filters.MultipleChoiceFilter(choices=InstanceStatus.choices)
    role = django_filters.CharFilter(field_name="role__name")
    environment = django_filters.CharFilter(field_name="environment__name")
    subnet = django_filters.CharFilter(field_name="subnet__name")
    name = django_filters.CharFilter(field_name="name")
    name_contains = django_filters.CharFilter(field_name="name", lookup_expr="icontains")
    tag = TagFilter(
        field_name="tag",
        help_text="KEY:VALUE (or KEY alone), repeatable: instances that carry every one",
    )
    expires_before = GivenTimeFilter(
        field_name="expires_at",
        lookup_expr="lt",
        help_text="An ISO 8601 time: instances whose lease ends before it (none without expiry)",
    )

    class Meta:
        model = Instance
        fields = [
            "status",
            "role",
            "environment",
            "subnet",
            "name",
            "name_contains",
            "tag",
            "expires_before",
        ]


class AllInstancesFilter(InstanceFilter):
    """The filters of the list of every cloud's instances: the same, and the cloud."""

    cloud = django_filters.CharFilter(field_name="cloud__name")

    class Meta(InstanceFilter.Meta):
        fields = [*InstanceFilter.Meta.fields, "cloud"]


class InstanceFilterBackend(DjangoFilterBackend):
    """django-filter's backend, skipped when the query string names none of the view's
    filters (a page of a list, the common read): building the filter set and its form was
    a tenth of such a list's time (docs/performance.md)."""

    def filter_queryset(self, request, queryset, view):
        if view.filterset_class.base_filters.keys().isdisjoint(request.query_params):
            return queryset
        return super().filter_queryset(request, queryset, view)
