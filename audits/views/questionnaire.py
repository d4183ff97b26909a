"""The questionnaire: one page per audit, one small form per item, saved item by item (views/answers.py).

The page is the hot path of the app, so it reads a fixed handful of rows whatever the audit's history:
the audit, the user's role, the answers, one count of changes per item and whether the project has an
MLflow connection. Rubric texts come from a per-process cache; each item's history is a fragment loaded
when the item's history is opened (`item_history`), with the full history page as the no-script path.
Everything said the same way for every item (labels, URL patterns, the status choices) is computed once
per page here, not once per item in the template.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils.formats import date_format
from django.utils.safestring import SafeString
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from audits import formatting, selectors, services
from audits.assignments.markup import OwnerMarkup
from audits.assignments.selectors import questionnaire_owners
from audits.dashboards.selectors import rubric_labels
from audits.exemptions.rules import audit_score_day, counted_status
from audits.exemptions.views import EMPTY_EXEMPTION_SLOTS, ExemptionMarkup
from audits.forms import STATUS_LABELS
from audits.models import ROLE_RANK, Answer, Audit, Project, Role
from audits.planning.panel import panel_context
from audits.selectors import QuestionnaireAnswer
from audits.services import AuditLocked
from audits.staleness.selectors import stale_answers
from audits.types import Actor, actor_of
from audits.views import item_markup
from audits.views.item_markup import lines, text
from integrations.mlflow.models import MlflowConnection
from integrations.reports.models import Report
from rubric.models import POINTED_STATUSES, AnswerStatus, Item
from rubric.scoring import ScoreResult, score_answers
from rubric.selectors import band_labels_localized, rubric_spec

# The filters of the questionnaire (?show=…); the page's script applies the same ones without a reload.
# assigned: the items the user owns ("my items"); stale: answers whose evidence no longer holds.
FILTERS = ("unanswered", "carried", "mine", "assigned", "stale")
COLLAPSE_ANSWERED = "answered"  # ?collapse=answered folds every answered item to its heading


@dataclass
class ItemRow:
    item: Item
    code: str
    title: str
    guidance: str
    answer: QuestionnaireAnswer | None
    save_url: str
    history_url: str
    history_count: int = 0
    mine: bool = False
    owner: str = ""  # username of the item's owner
    assigned: bool = False  # the user owns it
    hidden: bool = False  # filtered out by ?show=
    stale_reason: str = ""  # why the answer taken from evidence no longer holds (audits.staleness)
    folded: bool = False  # answered and ?collapse=answered
    status: str = ""
    status_label: str = ""
    notes: str = ""
    evidence_text: str = ""
    base_version: int = 0
    answered_by: str = ""  # "Last saved by …, …"
    errors: list[str] = field(default_factory=list)
    conflict: Answer | None = None
    html: SafeString = field(default_factory=SafeString)


@dataclass
class SectionBlock:
    key: str
    title: str
    score: str
    max: str
    answered: int
    total: int
    weakest: bool
    rows: list[ItemRow]


def _number(value: Decimal) -> str:
    return formatting.score(value or Decimal(0))


def score_payload(result: ScoreResult, bands: dict[str, str]) -> dict[str, Any]:
    """The score as the page shows it, numbers formatted for the active language."""
    return {
        "final": _number(result.final),
        # With exemptions counted as not done; the page shows it beside the final when they differ.
        "final_strict": _number(result.final_strict),
        "exempted": len(result.exempted),
        "band": bands.get(result.band.label, result.band.label) if result.band else "",
        "answered": result.answered,
        "total": result.total,
        "unanswered": result.total - result.answered,
        "percent": round(100 * result.answered / result.total) if result.total else 0,
        "weakest": list(result.weakest),
        "sections": {
            s.key: {"score": _number(s.score), "max": _number(s.max), "answered": s.answered, "total": s.total}
            for s in result.sections
        },
    }


def rubric_band_titles(audit: Audit) -> dict[str, str]:
    """The audit's rubric's band labels in the active language, from the per-process label cache."""
    return {band.label: band.title for band in rubric_labels(audit.rubric).bands}


def saved_by(answer: QuestionnaireAnswer) -> str:
    if not answer.answered_by or answer.answered_at is None:
        return ""
    return _("Last saved by %(who)s, %(when)s") % {
        "who": answer.answered_by,
        "when": date_format(localtime(answer.answered_at), "DATETIME_FORMAT"),
    }


def _role_rank(user: Actor, audit: Audit) -> int:
    role = selectors.audit_role(user=user, audit=audit)
    return ROLE_RANK[Role(role)] if role else -1


def _script_strings() -> dict[str, str]:
    """Texts the page's script shows, translated here; {name} marks a value the script fills in."""
    return {
        "saving": _("Saving…"),
        "saved": _("Saved"),
        "retrying": _("Not saved – retrying in {seconds} s"),  # noqa: RUF001
        "failed": _("Not saved: {error}"),
        "conflict": _("Not saved: someone else changed this answer"),
        "needStatus": _("Choose an answer to save your notes"),
        "restored": _("Restored unsaved changes from this browser"),
        "progress": _("{answered} of {total} answered"),
        "answeredBy": _("Last saved by {who}, {when}"),
        "locked": _("This audit was submitted; reload the page."),
        "signedOut": _("Not saved: you are signed out. Sign in again in another tab; saving resumes by itself."),
        "historyFailed": _("The history could not be loaded."),
    }


def _url_pattern(name: str, audit: Audit) -> str:
    """The URL of `name` for this audit with a placeholder for the item code, resolved once per page."""
    return reverse(name, kwargs={"audit_id": audit.pk, "item_code": "item-code"}).replace("item-code", "{}")


def questionnaire_page(
    request: HttpRequest, audit: Audit, overrides: dict[str, dict[str, Any]] | None = None, status: int = 200
) -> HttpResponse:
    overrides = overrides or {}
    user = request.user
    rank = _role_rank(user, audit)
    can_edit = not audit.is_submitted and rank >= ROLE_RANK[Role.EDITOR]
    labels = rubric_labels(audit.rubric)
    spec = rubric_spec(audit.rubric)
    answers = selectors.questionnaire_answers(audit=audit, user=user)
    day = audit_score_day(audit)
    # Counted statuses: an exemption only when approved and unexpired (audits.exemptions.rules).
    statuses = {
        item.code: counted_status(a.status, a.exemption_state, a.expires_on, day)
        for item in labels.items
        if (a := answers.get(item.pk)) is not None
    }
    result = score_answers(spec, statuses)
    owners = questionnaire_owners(audit=audit)
    mlflow_connected, has_reports = _evidence_sources(audit)
    # Only projects with evidence can have answers resting on it; the others keep the page's five queries.
    stale = stale_answers(audit=audit, statuses=statuses) if mlflow_connected or has_reports else {}
    show = request.GET.get("show", "")
    show = show if show in FILTERS else ""
    collapse = request.GET.get("collapse") == COLLAPSE_ANSWERED

    save_url, history_url = _url_pattern("audits:answer-save", audit), _url_pattern("audits:item-history", audit)
    rows_by_section: dict[int, list[ItemRow]] = {}
    for item in labels.items:
        answer = answers.get(item.pk)
        code = item.code
        row = ItemRow(
            item=item,
            code=code,
            title=item.localized("title"),
            guidance=item.localized("guidance"),
            answer=answer,
            save_url=save_url.format(code),
            history_url=history_url.format(code),
            history_count=answer.changes if answer else 0,
            mine=bool(answer and (answer.changed_by_me or answer.answered_by_id == user.pk)),
        )
        if (owner := owners.owners.get(item.pk)) is not None:
            row.owner, row.assigned = owner.username, owner.user_id == user.pk
        if answer:
            row.status, row.notes, row.base_version = answer.status, answer.notes, answer.version
            row.evidence_text, row.answered_by = "\n".join(answer.evidence), saved_by(answer)
        if code in stale:
            row.stale_reason = stale[code].reason
        for key, value in overrides.get(code, {}).items():
            setattr(row, key, value)
        row.status_label = str(STATUS_LABELS.get(row.status, "")) if row.status else ""  # type: ignore[call-overload]
        row.hidden = bool(show) and not _matches(row, show)
        row.folded = collapse and answer is not None and not row.errors and row.conflict is None
        rows_by_section.setdefault(item.section_id, []).append(row)

    section_ids = {item.section.key: item.section_id for item in labels.items}
    blocks = []
    for section in result.sections:
        blocks.append(
            SectionBlock(
                key=section.key,
                title=labels.section_titles.get(section.key, section.title),
                score=_number(section.score),
                max=_number(section.max),
                answered=section.answered,
                total=section.total,
                weakest=section.key in result.weakest,
                rows=rows_by_section.get(section_ids.get(section.key, -1), []),
            )
        )
    all_rows = [row for block in blocks for row in block.rows]
    page = {"audit": audit, "project": audit.project, "can_edit": can_edit, "mlflow_connected": mlflow_connected}
    page["history_page"] = reverse("audits:audit-history", kwargs={"audit_id": audit.pk})
    page["is_manager"] = rank >= ROLE_RANK[Role.MANAGER]
    markup = ItemMarkup(request, page, spec.points, mlflow_connected or has_reports)
    markup.exemptions = ExemptionMarkup(
        request, audit, markup.parts, user=user, is_manager=bool(page["is_manager"]), today=day
    )
    markup.statuses.append(
        (
            AnswerStatus.NOT_APPLICABLE.value,
            text(STATUS_LABELS[AnswerStatus.NOT_APPLICABLE]),
            text(_("Points: %(points)s") % {"points": _number(spec.points_per_exemption)}) + markup.approval_note,
        )
    )
    markup.owners = OwnerMarkup(markup.parts, owners.members, can_edit, _url_pattern("audits:item-owner", audit))
    for row in all_rows:
        row.html = markup.render(row)
    counts = {
        "unanswered": sum(1 for row in all_rows if row.answer is None),
        "carried": sum(1 for row in all_rows if row.answer and row.answer.carried_over),
        "mine": sum(1 for row in all_rows if row.mine),
        "assigned": sum(1 for row in all_rows if row.assigned),
        "stale": sum(1 for row in all_rows if row.stale_reason),
    }
    context = {
        **page,
        "rubric": audit.rubric,
        "blocks": blocks,
        "score": score_payload(result, rubric_band_titles(audit)),
        "next_steps": panel_context(audit, statuses),
        "can_submit": rank >= ROLE_RANK[Role.MANAGER] and not audit.is_submitted,
        "show": show,
        "collapse": collapse,
        "counts": counts,
        "shown_count": sum(1 for row in all_rows if not row.hidden),
        "filter_links": _filter_links(show, collapse, counts),
        "collapse_link": {
            "href": _query(show, not collapse),
            "label": _("Expand every item") if collapse else _("Collapse answered items"),
        },
        "strings": _script_strings(),
    }
    return render(request, "audits/audit_detail.html", context, status=status)


class ItemMarkup:
    """Each item's HTML from `_item.html` rendered once per page (see item_markup)."""

    def __init__(
        self, request: HttpRequest, page: dict[str, Any], points: Mapping[str, Decimal], has_evidence: bool
    ) -> None:
        self.request, self.page, self.has_evidence = request, page, has_evidence
        self.item, self.parts = item_markup.fillers("audits/_item.html", page, request)
        points_label = _("Points: %(points)s")
        # The pointed statuses; questionnaire_page adds not applicable, worth the exemption points.
        self.statuses = [
            (value, text(STATUS_LABELS[AnswerStatus(value)]), text(points_label % {"points": _number(points[value])}))
            for value in POINTED_STATUSES
        ]
        self.approval_note = text(" · " + _("once approved"))
        self.exemptions: ExemptionMarkup | None = None
        self.not_answered = self.parts["not_answered"].fill({})
        self.owners: OwnerMarkup | None = None  # set by the page once it has read the owners

    def render(self, row: ItemRow) -> SafeString:
        parts, answer, code = self.parts, row.answer, text(row.code)
        carried = bool(answer and answer.carried_over)
        flags = "".join(
            flag
            for flag, on in (
                (" data-answered", answer is not None),
                (" data-carried", carried),
                (" data-mine", row.mine),
                (" data-assigned", row.assigned),
                (" data-stale", bool(row.stale_reason)),
                (" hidden", row.hidden),
                (' data-state="conflict"', row.conflict is not None),
            )
            if on
        )
        choice = parts["choice"]
        values = {
            "code": code,
            "version": str(row.base_version),
            "save_url": text(row.save_url),
            "server_status": text(answer.status if answer else ""),
            "flags": flags,
            "open": "" if row.folded else " open",
            "title": text(row.title),
            "status_label": text(row.status_label),
            "carried_tag": parts["carried_tag"].fill({}) if carried else "",
            "stale": parts["stale"].fill({"reason": text(row.stale_reason)}) if row.stale_reason else "",
            "guidance": parts["guidance"].fill({"guidance": lines(row.guidance)}) if row.guidance else "",
            "choices": "".join(
                choice.fill(
                    {
                        "code": code,
                        "value": value,
                        "checked": " checked" if value == row.status else "",
                        "label": label,
                        "points": points,
                    }
                )
                for value, label, points in self.statuses
                if value != AnswerStatus.NOT_APPLICABLE or row.item.allows_not_applicable
            ),
            "notes": text(row.notes),
            "evidence_text": text(row.evidence_text),
            "errors": "".join(parts["error"].fill({"error": text(error)}) for error in row.errors),
            "conflict": self._conflict(row) if row.conflict is not None else "",
            "confirm": parts["confirm"].fill({}) if carried else "",
            "answered_by": text(row.answered_by),
            "readonly_status": text(row.status_label) if answer else self.not_answered,
            "readonly_notes": parts["readonly_notes"].fill({"notes": lines(answer.notes)})
            if answer and answer.notes
            else "",
            "readonly_links": self._links(answer.evidence) if answer and answer.evidence else "",
            "evidence": self._evidence(row) if self.has_evidence else "",
            "history_url": text(row.history_url),
            "history_count": str(row.history_count),
            "owner": self.owners.tag(row.owner) if self.owners else "",
            "owner_form": self.owners.form(row.code, row.owner) if self.owners else "",
        }
        values.update(self.exemptions.slots(row) if self.exemptions else EMPTY_EXEMPTION_SLOTS)
        return self.item.fill(values)

    def _links(self, links: list[str]) -> str:
        link = self.parts["readonly_link"]
        return self.parts["readonly_links"].fill({"links": "".join(link.fill({"link": text(x)}) for x in links)})

    def _conflict(self, row: ItemRow) -> str:
        return render_to_string(
            "audits/_item_conflict.html", {**self.page, "row": row, "conflict": row.conflict}, self.request
        )

    def _evidence(self, row: ItemRow) -> str:
        # The evidence sources' own templates, per item, only on projects where a source has something
        # (their tags read the findings once per page).
        return render_to_string("audits/_item_evidence.html", {**self.page, "row": row}, self.request)


def _evidence_sources(audit: Audit) -> tuple[bool, bool]:
    """Whether the project has an MLflow connection, and CI reports, in one query: items show a source's
    evidence block only where the source has something, never an empty heading."""
    row = Project.objects.filter(pk=audit.project_id).values_list(
        Exists(MlflowConnection.objects.filter(project_id=OuterRef("pk"))),
        Exists(Report.objects.filter(project_id=OuterRef("pk"))),
    )
    found = next(iter(row), (False, False))
    return bool(found[0]), bool(found[1])


def _query(show: str, collapse: bool) -> str:
    """The page's own query string for a filter and a fold state (the no-script path of both)."""
    params = [f"show={show}"] if show else []
    if collapse:
        params.append(f"collapse={COLLAPSE_ANSWERED}")
    return "?" + "&".join(params)


def _filter_links(show: str, collapse: bool, counts: dict[str, int]) -> list[dict[str, Any]]:
    labels = {
        "": _("All items"),
        "unanswered": _("Unanswered"),
        "carried": _("Carried over"),
        "mine": _("Mine"),
        "assigned": _("Assigned to me"),
        "stale": _("Stale"),
    }
    return [
        {"key": key, "label": label, "count": counts.get(key, 0), "href": _query(key, collapse), "current": key == show}
        for key, label in labels.items()
    ]


def _matches(row: ItemRow, show: str) -> bool:
    if show == "unanswered":
        return row.answer is None
    if show == "carried":
        return bool(row.answer and row.answer.carried_over)
    if show == "assigned":
        return row.assigned
    if show == "stale":
        return bool(row.stale_reason)
    return row.mine


def audit_detail(request: HttpRequest, audit_id: int) -> HttpResponse:
    return questionnaire_page(request, selectors.audit_for_user(user=request.user, audit_id=audit_id))


def item_history(request: HttpRequest, audit_id: int, item_code: str) -> HttpResponse:
    """One item's history as an HTML fragment, for the page's script when the item's history is opened."""
    audit = selectors.audit_for_user(user=request.user, audit_id=audit_id)
    changes = list(selectors.item_changes(audit=audit, item_code=item_code))
    if not changes and not audit.rubric.items.filter(code=item_code).exists():
        raise Http404("No such item.")
    return render(request, "audits/_item_history.html", {"changes": changes})


def _result_url(audit: Audit) -> str:
    try:
        return reverse("dashboards:audit-result", kwargs={"audit_id": audit.pk})
    except NoReverseMatch:
        return reverse("audits:audit-detail", kwargs={"audit_id": audit.pk})


@require_http_methods(["GET", "POST"])
def audit_submit(request: HttpRequest, audit_id: int) -> HttpResponse:
    audit = selectors.audit_for_user(user=request.user, audit_id=audit_id)
    if not selectors.has_role(user=request.user, team=audit.project.team, at_least=Role.MANAGER):
        raise PermissionDenied(_("Only team managers can submit audits."))
    if audit.is_submitted:
        messages.info(request, _("This audit is already submitted."))
        return redirect("audits:audit-detail", audit_id=audit.pk)
    if request.method == "POST":
        try:
            services.audit_submit(actor=actor_of(request), audit=audit)
        except AuditLocked as error:
            messages.error(request, str(error))
            return redirect("audits:audit-detail", audit_id=audit.pk)
        messages.success(request, _("Audit submitted. Its answers and scores are now frozen."))
        return redirect(_result_url(audit))
    result = selectors.audit_score(audit=audit)
    return render(
        request,
        "audits/audit_submit.html",
        {
            "audit": audit,
            "project": audit.project,
            "score": score_payload(result, band_labels_localized()),
            "unanswered": result.total - result.answered,
        },
    )


def audit_history(request: HttpRequest, audit_id: int) -> HttpResponse:
    """Every change of the audit's answers; ?item=<code> narrows it to one item (the questionnaire's
    no-script link from an item's history)."""
    audit = selectors.audit_for_user(user=request.user, audit_id=audit_id)
    item_code = request.GET.get("item", "")
    changes = (
        selectors.item_changes(audit=audit, item_code=item_code) if item_code else selectors.audit_changes(audit=audit)
    )
    return render(
        request,
        "audits/audit_history.html",
        {"audit": audit, "project": audit.project, "changes": changes, "item_code": item_code},
    )
