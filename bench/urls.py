"""PCM's URLs plus the baselines: a bare DRF retrieve and a bare DRF list of the same
instance rows."""

from django.urls import path
from rest_framework import generics, pagination, serializers

from instances.models import Instance
from pcm.urls import handler400, handler403, handler404, handler500  # noqa: F401
from pcm.urls import urlpatterns as pcm_urlpatterns


class BareInstanceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Instance
        fields = "__all__"


class BareInstance(generics.RetrieveAPIView):
    """What DRF alone costs: same authentication, one row by primary key, all its fields."""

    queryset = Instance.objects.all()
    serializer_class = BareInstanceSerializer


class BarePages(pagination.PageNumberPagination):
    """DRF's page-number pagination with PCM's query parameter and limit (pcm/pagination.py),
    without PCM's validation of them."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class BareInstances(generics.ListAPIView):
    """What DRF alone costs for a list: same authentication, the rows in PCM's list order
    (Instance.Meta.ordering, newest first), counted and paged as PCM pages, all fields."""

    queryset = Instance.objects.order_by("-created_at")
    serializer_class = BareInstanceSerializer
    pagination_class = BarePages


urlpatterns = [
    path("bench/baseline/instances/<uuid:pk>", BareInstance.as_view()),
    path("bench/baseline/instances", BareInstances.as_view()),
    *pcm_urlpatterns,
]
