"""The sign-in pages of single sign-on: start (redirect to the provider), callback, and sign-out.

Every way a provider sign-in can fail ends on a page that says what happened (400 for a response that does
not verify, 403 for an account mlaudit refuses, 503 for a provider that cannot be reached), never on a 500;
the password form stays usable where local passwords are enabled.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from audits.sso import discovery
from audits.sso.backend import config, oidc_setting
from audits.sso.services import SignInRefused

log = logging.getLogger(__name__)


def sso_problem(request: HttpRequest, *, message: str, status: int) -> HttpResponse:
    context = {
        "message": message,
        "provider_name": settings.MLAUDIT_OIDC.provider_name if settings.MLAUDIT_OIDC else "",
        "local_passwords": settings.MLAUDIT_LOCAL_PASSWORDS,
    }
    return render(request, "registration/sso_problem.html", context, status=status)


def unreachable(request: HttpRequest, error: Exception) -> HttpResponse:
    log.warning("SSO sign-in: the identity provider is unreachable: %s", error)
    return sso_problem(
        request,
        message=_("The identity provider cannot be reached right now, so signing in through it is not possible."),
        status=503,
    )


@method_decorator(login_not_required, name="dispatch")
class SignInStartView(OIDCAuthenticationRequestView):
    """Redirects to the provider with state, nonce and a PKCE challenge kept in the session."""

    get_settings = staticmethod(oidc_setting)  # type: ignore[assignment]

    def __init__(self, **kwargs: Any) -> None:
        # The library reads the endpoint here; this view reads it in get(), where a failure can be answered.
        super(OIDCAuthenticationRequestView, self).__init__(**kwargs)

    def get(self, request: HttpRequest) -> HttpResponse:  # type: ignore[override]
        if settings.MLAUDIT_OIDC is None:
            raise Http404("Single sign-on is not configured.")
        try:
            self.OIDC_OP_AUTH_ENDPOINT = oidc_setting("OIDC_OP_AUTHORIZATION_ENDPOINT")
        except discovery.ProviderUnavailable as error:
            return unreachable(request, error)
        self.OIDC_RP_CLIENT_ID = config().client_id
        return super().get(request)


@method_decorator(login_not_required, name="dispatch")
class CallbackView(OIDCAuthenticationCallbackView):
    """Where the provider sends the browser back; the library checks state, exchanges the code (with the PKCE
    verifier) and the backend verifies the ID token."""

    get_settings = staticmethod(oidc_setting)  # type: ignore[assignment]

    def get(self, request: HttpRequest) -> HttpResponse:  # type: ignore[override]
        if settings.MLAUDIT_OIDC is None:
            raise Http404("Single sign-on is not configured.")
        try:
            return super().get(request)
        except SuspiciousOperation as error:
            log.warning("SSO sign-in refused: %s", error)
            return sso_problem(
                request,
                message=_("The answer from the identity provider could not be verified, so you are not signed in.")
                + " "
                + _("Start again from the sign-in page."),
                status=400,
            )
        except SignInRefused as error:
            return sso_problem(request, message=str(error), status=403)
        except requests.HTTPError as error:
            log.warning("SSO sign-in: the provider refused the code exchange: %s", error)
            return sso_problem(
                request,
                message=_("The identity provider refused to complete the sign-in.")
                + " "
                + _("Start again from the sign-in page."),
                status=400,
            )
        except (requests.RequestException, discovery.ProviderUnavailable) as error:
            return unreachable(request, error)

    def login_failure(self) -> HttpResponse:
        user = getattr(self, "user", None)
        if user is not None and not user.is_active:
            log.warning("SSO sign-in refused: the account %r is deactivated", user.get_username())
            return sso_problem(self.request, message=_("Your mlaudit account is deactivated."), status=403)
        error = self.request.GET.get("error")
        if error:
            log.warning("SSO sign-in: the provider answered %s (%s)", error, self.request.GET.get("error_description"))
            message = _("The identity provider did not sign you in (%(error)s).") % {"error": error[:100]}
        else:
            log.warning("SSO sign-in: the callback came without a sign-in started in this browser session")
            message = _("This sign-in was not started from this browser session (or it expired).")
        return sso_problem(self.request, message=message + " " + _("Start again from the sign-in page."), status=400)


def provider_logout_url(request: HttpRequest, id_token: str) -> str | None:
    """The provider's end-session URL (RP-initiated logout), or None where it has none or it is turned off."""
    current = settings.MLAUDIT_OIDC
    if current is None or not current.rp_logout:
        return None
    try:
        end_session = discovery.metadata(current).get("end_session_endpoint")
    except discovery.ProviderUnavailable as error:
        log.warning("SSO sign-out: only the mlaudit session ended; the provider is unreachable: %s", error)
        return None
    if not end_session:
        return None
    query = urlencode(
        {
            "id_token_hint": id_token,
            "client_id": current.client_id,
            "post_logout_redirect_uri": request.build_absolute_uri(reverse("account:login")),
        }
    )
    return f"{end_session}{'&' if '?' in end_session else '?'}{query}"


PROVIDER_LOGOUT_SESSION_KEY = "sso_provider_logout_url"


class SignOutView(auth_views.LogoutView):
    """Django's sign-out; after a provider sign-in it goes on to the provider to end that session too.

    The sign-out form may only submit to this site (CSP form-action 'self', which also covers redirects after
    a submission), so it lands on `provider_sign_out` here, which sends the browser on to the provider."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        id_token = request.session.get("oidc_id_token")
        url = provider_logout_url(request, id_token) if id_token else None
        response = super().post(request, *args, **kwargs)
        if not url:
            return response
        request.session[PROVIDER_LOGOUT_SESSION_KEY] = url  # the new, anonymous session
        return HttpResponseRedirect(reverse("account:oidc-logout"))


@login_not_required
def provider_sign_out(request: HttpRequest) -> HttpResponse:
    """Signed out of mlaudit; a refresh (and a link, without delay) take the browser to the provider's logout."""
    url = request.session.pop(PROVIDER_LOGOUT_SESSION_KEY, None)
    if not url:
        return HttpResponseRedirect(reverse("account:login"))
    context = {"provider_logout_url": url, "provider_name": config().provider_name}
    return render(request, "registration/sso_signed_out.html", context)
