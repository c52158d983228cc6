"""PCM's URLs plus the baseline: a bare DRF retrieve of the same instance row."""

from django.urls import path
from rest_framework import generics, serializers

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


urlpatterns = [
    path("bench/baseline/instances/<uuid:pk>", BareInstance.as_view()),
    *pcm_urlpatterns,
]
