from django.urls import URLPattern, URLResolver, path

from audits.api import pages

app_name = "api-pages"

urlpatterns: list[URLPattern | URLResolver] = [
    path("tokens/", pages.token_list, name="tokens"),
    path("tokens/<int:token_id>/revoke/", pages.token_revoke, name="token-revoke"),
]
