from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path, re_path
from django.views.generic import RedirectView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("integrations.mlflow.api.urls")),
    path("api/v1/", include("integrations.reports.api_urls")),
    path("api/v1/", include("evidence.api_urls")),
    path("api/v1/", include("audits.campaigns.api_urls")),
    path("api/v1/", include("audits.notifications.api_urls")),
    path("api/v1/", include("audits.api.urls")),
    path("api/", include("audits.api.schema_urls")),
    # Sign-in, sign-out, password reset and change, API tokens, profile (one namespace: account:).
    path("account/", include("audits.account_urls")),
    # Addresses before they moved under /account/ (bookmarks, password-reset mails already sent).
    re_path(
        r"^accounts/(?P<rest>.*)$",
        login_not_required(RedirectView.as_view(url="/account/%(rest)s", permanent=True, query_string=True)),
    ),
    path("integrations/mlflow/", include("integrations.mlflow.urls")),
    path("integrations/reports/", include("integrations.reports.urls")),
    path("", include("config.health_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("campaigns/", include("audits.campaigns.urls")),
    path("", include("audits.notifications.urls")),
    path("", include("audits.dashboard_urls")),
    path("", include("audits.urls")),
]

# API paths that match no route answer in the API's JSON error envelope; pages keep the HTML 404.
handler404 = "audits.api.exceptions.page_not_found"
# A database outage is a 503 with a sentence (config/outage.py); any other failure keeps Django's 500 page.
handler500 = "config.outage.server_error"
