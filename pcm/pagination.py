"""One pagination for every list: `?page=N&page_size=M` (at most 500)."""

import re

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination

# ASCII digits only: str.isdigit() also takes "³", which int() refuses.
WHOLE = re.compile(r"[0-9]{1,9}")


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request):
        """A page_size that is not a whole number from 1 to 500 is a 400, not ignored."""
        given = request.query_params.get(self.page_size_query_param)
        if given is None:
            return self.page_size
        if not WHOLE.fullmatch(given) or not 1 <= int(given) <= self.max_page_size:
            raise ValidationError(
                {"page_size": [f"must be a whole number from 1 to {self.max_page_size}"]}
            )
        return int(given)

    def paginate_queryset(self, queryset, request, view=None):
        given = request.query_params.get(self.page_query_param)
        if (
            given is not None
            and given != "last"
            and not (WHOLE.fullmatch(given) and int(given) >= 1)
        ):
            raise ValidationError({"page": ["must be a whole number from 1"]})
        return super().paginate_queryset(queryset, request, view)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page_size)
            if parameter["name"] == self.page_query_param:
                parameter["schema"].update(minimum=1, maximum=999_999_999)
        return parameters
