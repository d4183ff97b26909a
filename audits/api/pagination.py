from __future__ import annotations

from rest_framework.pagination import PageNumberPagination


class ApiPagination(PageNumberPagination):
    """`?page=N` and `?page_size=M` (at most 200); 50 per page by default."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
