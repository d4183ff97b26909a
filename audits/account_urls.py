"""Everything under /account/ in one module and one namespace (`account:`): signing in and out (passwords and
single sign-on), password reset and change, API tokens and the profile page.

Django's auth views reverse their next page by bare names (`password_reset_done`, …), so each is given its
`account:` URL here. The old /accounts/… addresses redirect to the new ones (config/urls.py).
"""

from django.contrib.auth import views as auth_views
from django.urls import URLPattern, URLResolver, path, reverse_lazy

from audits.api import pages as token_pages
from audits.sso import views as sso
from audits.views import teams
from audits.views.accounts import PasswordResetView, SignInView, local_passwords_required

app_name = "account"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", teams.account, name="profile"),
    path("login/", SignInView.as_view(), name="login"),
    path("logout/", sso.SignOutView.as_view(), name="logout"),
    path("sso/start/", sso.SignInStartView.as_view(), name="oidc-start"),
    path("sso/callback/", sso.CallbackView.as_view(), name="oidc-callback"),
    path("sso/logout/", sso.provider_sign_out, name="oidc-logout"),
    path(
        "password_change/",
        local_passwords_required(
            auth_views.PasswordChangeView.as_view(success_url=reverse_lazy("account:password_change_done"))
        ),
        name="password_change",
    ),
    path(
        "password_change/done/",
        local_passwords_required(auth_views.PasswordChangeDoneView.as_view()),
        name="password_change_done",
    ),
    # Rate-limited, and the mail is sent by a task (audits/views/accounts.py).
    path("password_reset/", local_passwords_required(PasswordResetView.as_view()), name="password_reset"),
    path(
        "password_reset/done/",
        local_passwords_required(auth_views.PasswordResetDoneView.as_view()),
        name="password_reset_done",
    ),
    path(
        "reset/<uidb64>/<token>/",
        local_passwords_required(
            auth_views.PasswordResetConfirmView.as_view(success_url=reverse_lazy("account:password_reset_complete"))
        ),
        name="password_reset_confirm",
    ),
    path(
        "reset/done/",
        local_passwords_required(auth_views.PasswordResetCompleteView.as_view()),
        name="password_reset_complete",
    ),
    path("tokens/", token_pages.token_list, name="tokens"),
    path("tokens/<int:token_id>/revoke/", token_pages.token_revoke, name="token-revoke"),
]
