"""Query-string filters of instance lists."""

import django_filters

from instances.choices import InstanceStatus
from instances.models import Instance


class InstanceFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=InstanceStatus.choices)
    role = django_filters.CharFilter(field_name="role__name")
    environment = django_filters.CharFilter(field_name="environment__name")
    name = django_filters.CharFilter(field_name="name")
    name_contains = django_filters.CharFilter(field_name="name", lookup_expr="icontains")
    cloud = django_filters.CharFilter(field_name="cloud__name")

    class Meta:
        model = Instance
        fields = ["status", "role", "environment", "name", "name_contains", "cloud"]
