"""The profile page where people create, name and revoke their API tokens."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from audits.api.tokens import MAX_NAME_LENGTH, api_token_create, api_token_revoke, api_tokens_of
from audits.types import actor_of

TEMPLATE = "api/tokens.html"


class TokenForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=MAX_NAME_LENGTH,
        help_text=gettext_lazy("What will use it, for example “nightly CI of search-ranking”."),
    )


@require_http_methods(["GET", "POST"])
def token_list(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST or None)
    new_key = None
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            token, new_key = api_token_create(user=actor_of(request), name=form.cleaned_data["name"])
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            form = TokenForm()
            messages.success(request, _("Token “%(name)s” created.") % {"name": token.name})
    elif request.method == "POST":
        status = 400
    context = {"form": form, "tokens": api_tokens_of(user=actor_of(request)), "new_key": new_key}
    # The key is shown in this one response only; it is stored hashed and cannot be shown again.
    response = render(request, TEMPLATE, context, status=status)
    response["Cache-Control"] = "no-store"
    return response


@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    try:
        token = api_token_revoke(user=actor_of(request), token_id=token_id)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Token “%(name)s” revoked; scripts using it now get 401.") % {"name": token.name})
    return redirect("account:tokens")
