from django.contrib import admin
from django.urls import include, path

from audits.views.accounts import PasswordResetView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("integrations.mlflow.api.urls")),
    path("api/v1/", include("integrations.reports.api_urls")),
    path("api/v1/", include("evidence.api_urls")),
    path("api/v1/", include("audits.campaigns.api_urls")),
    path("api/v1/", include("audits.notifications.api_urls")),
    path("api/v1/", include("audits.api.urls")),
    path("api/", include("audits.api.schema_urls")),
    path("account/", include("audits.api.page_urls")),
    path("integrations/mlflow/", include("integrations.mlflow.urls")),
    path("integrations/reports/", include("integrations.reports.urls")),
    path("", include("config.health_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    # Before Django's own: rate-limited, and the mail is sent by a task (audits/views/accounts.py).
    path("accounts/password_reset/", PasswordResetView.as_view(), name="password_reset"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("campaigns/", include("audits.campaigns.urls")),
    path("", include("audits.notifications.urls")),
    path("", include("audits.dashboard_urls")),
    path("", include("audits.urls")),
]

# API paths that match no route answer in the API's JSON error envelope; pages keep the HTML 404.
handler404 = "audits.api.exceptions.page_not_found"
# A database outage is a 503 with a sentence (config/outage.py); any other failure keeps Django's 500 page.
handler500 = "config.outage.server_error"
