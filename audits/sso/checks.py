"""`manage.py check` for single sign-on: a misconfigured issuer is reported with a sentence.

The syntax of the variables is checked when settings load (config/oidc.py); here the issuer is asked for its
metadata, so a wrong URL, a provider that calls itself by another issuer, or one without the endpoints a code
flow needs is an error before anyone tries to sign in. A provider that is merely unreachable is a warning: it
may be down for a moment, and the sign-in page says so when it is.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register

from audits.sso import discovery
from config.oidc import issuer_problem


@register(Tags.security)
def oidc_issuer_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    config = settings.MLAUDIT_OIDC
    if config is None:
        return []
    problem = issuer_problem(config.issuer, debug=settings.DEBUG)
    if problem:
        return [Error(problem, id="mlaudit.E101")]
    try:
        discovery.fetch(config)
    except discovery.ProviderMisconfigured as error:
        return [
            Error(str(error), hint="Check MLAUDIT_OIDC_ISSUER (and MLAUDIT_OIDC_DISCOVERY_URL).", id="mlaudit.E102")
        ]
    except discovery.ProviderUnavailable as error:
        return [
            Warning(
                f"{error} Single sign-on will not work until the identity provider answers.",
                hint="Check MLAUDIT_OIDC_ISSUER and that this host can reach the provider.",
                id="mlaudit.W101",
            )
        ]
    return []
