"""PCM's URLs: the v2 API, the schema and docs, and the admin.

`/pcm_api/v2/cloud/...` and `/pcm_api/v2/locations/...` reach the `clouds` routes through
pcm.middleware.ApiPathMiddleware.
"""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from clouds import urls as clouds_urls
from instances import urls as instances_urls
from pcm.views import ApiRoot, no_such_endpoint
from webhooks import urls as webhooks_urls

api_v2 = [
    *clouds_urls.top_level,
    *instances_urls.top_level,
    *webhooks_urls.top_level,
    path("clouds", clouds_urls.cloud_list, name="cloud-list"),
    path("clouds/<str:cloud>", clouds_urls.cloud_detail, name="cloud-detail"),
    path("clouds/<str:cloud>/", include(clouds_urls.cloud_scoped + instances_urls.cloud_scoped)),
]

urlpatterns = [
    path("pcm_api/v2", ApiRoot.as_view(), name="api-root"),
    path("pcm_api/v2/", include(api_v2)),
    path("pcm_api/schema", SpectacularAPIView.as_view(), name="schema"),
    path("pcm_api/docs", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("pcm_api/<path:rest>", no_such_endpoint),
    path("admin/", admin.site.urls),
]

handler400 = "pcm.handlers.bad_request"
handler403 = "pcm.handlers.permission_denied"
handler404 = "pcm.handlers.page_not_found"
handler500 = "pcm.handlers.server_error"
