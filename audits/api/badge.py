"""An SVG badge ("ML Test Score | 2.5") coloured by score band, for a project's README."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse
from django.utils.decorators import method_decorator
from django.utils.html import escape
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

from audits.api.negotiation import IgnoreClientContentNegotiation
from audits.api.schema import error_responses
from audits.exemptions.formatting import EXEMPTION_MARK
from audits.formatting import plain
from audits.selectors import badge_project_for, latest_submitted_audit
from rubric.scoring import band_for
from rubric.selectors import rubric_spec

# From the lowest band to the highest; a rubric with other bands is spread over the same scale.
BAND_COLOURS = ["#e05d44", "#fe7d37", "#dfb317", "#a4a61d", "#97ca00", "#44cc11"]
NO_SCORE_COLOUR = "#9f9f9f"
LABEL_COLOUR = "#555"
PUBLIC_MAX_AGE = 300


def band_colour(index: int | None, band_count: int) -> str:
    if index is None or band_count == 0:
        return NO_SCORE_COLOUR
    if band_count == 1:
        return BAND_COLOURS[-1]
    return BAND_COLOURS[round(index * (len(BAND_COLOURS) - 1) / (band_count - 1))]


def _text_width(text: str) -> int:
    # Verdana 11px averages about 6.5px a character; shields.io badges use the same approximation.
    return int(len(text) * 6.5) + 10


def badge_svg(label: str, value: str, colour: str) -> str:
    left, right = _text_width(label), _text_width(value)
    total = left + right
    label_e, value_e = escape(label), escape(value)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="20" role="img" '
        f'aria-label="{label_e}: {value_e}"><title>{label_e}: {value_e}</title>'
        f'<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/>'
        f'<stop offset="1" stop-opacity=".1"/></linearGradient>'
        f'<clipPath id="r"><rect width="{total}" height="20" rx="3" fill="#fff"/></clipPath>'
        f'<g clip-path="url(#r)"><rect width="{left}" height="20" fill="{LABEL_COLOUR}"/>'
        f'<rect x="{left}" width="{right}" height="20" fill="{colour}"/>'
        f'<rect width="{total}" height="20" fill="url(#s)"/></g>'
        f'<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11">'
        f'<text x="{left / 2}" y="14">{label_e}</text>'
        f'<text x="{left + right / 2}" y="14">{value_e}</text></g></svg>'
    )


def project_badge(project: Any) -> str:
    audit = latest_submitted_audit(project=project)
    label = _("ML Test Score")
    if audit is None or audit.final_score is None:
        return badge_svg(label, _("no audit yet"), NO_SCORE_COLOUR)
    bands = rubric_spec(audit.rubric).bands
    band = band_for(bands, audit.final_score)
    index = bands.index(band) if band is not None else None
    # A score that counts exemptions says so: "2.5*" (the README explains the mark).
    value = plain(audit.final_score) + (EXEMPTION_MARK if audit.exempted_count else "")
    return badge_svg(label, value, band_colour(index, len(bands)))


@method_decorator(login_not_required, name="dispatch")
class ProjectBadgeView(APIView):
    permission_classes = [AllowAny]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = IgnoreClientContentNegotiation

    @extend_schema(
        operation_id="project_badge",
        summary="Score badge (SVG)",
        description=(
            "The latest submitted audit's final score as an SVG badge coloured by band. Anyone may fetch it "
            "when the project's badge is public; otherwise only users who can see the project, and 404 for "
            "everyone else. Public badges are cacheable for five minutes."
        ),
        auth=[{"tokenAuth": []}, {"cookieAuth": []}, {}],  # type: ignore[list-item]  # {}: no credentials
        responses={
            (200, "image/svg+xml"): OpenApiResponse(
                OpenApiTypes.STR,
                examples=[OpenApiExample("Badge", value='<svg xmlns="http://www.w3.org/2000/svg" ...>…</svg>')],
            ),
            **error_responses(404, 429),
        },
    )
    def get(self, request: Request, slug: str) -> HttpResponse:
        project = badge_project_for(user=request.user, slug=slug)
        response = HttpResponse(project_badge(project), content_type="image/svg+xml; charset=utf-8")
        if project.badge_public:
            response["Cache-Control"] = f"public, max-age={PUBLIC_MAX_AGE}"
        else:
            response["Cache-Control"] = "private, no-cache"
            response["Vary"] = "Authorization, Cookie"
        return response
