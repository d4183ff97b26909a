"""Writes for CI reports: receiving one (parse, map, store once per CI run) and the project's mapping rules."""

from __future__ import annotations

import gzip
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.exceptions import APIException

from audits.models import Project, Role
from audits.selectors import has_role
from audits.staleness.tasks import live_score_check_after_commit
from audits.types import Actor, User
from integrations.reports import mapping, selectors
from integrations.reports.models import (
    MAX_RUN_FIELD,
    MAX_UNMAPPED_NAMES,
    MAX_URL,
    Report,
    ReportKind,
    ReportMapping,
)
from integrations.reports.parsers import ReportError, parse


class ReportTooLarge(APIException):
    status_code = 413
    default_code = "too_large"


def report_size_limit() -> int:
    return int(settings.MLAUDIT_REPORT_MAX_BYTES)


def too_large_message(size: int) -> str:
    return _("The report is %(size)s bytes; at most %(limit)s are accepted (MLAUDIT_REPORT_MAX_BYTES).") % {
        "size": size,
        "limit": report_size_limit(),
    }


def _require(actor: Actor, project: Project, role: str) -> None:
    if not has_role(user=actor, team=project.team, at_least=role):
        raise PermissionDenied(_("Your role in this team does not allow this."))


def _text(value: Any, field: str, limit: int) -> str:
    text = str(value or "").strip()
    if "\x00" in text:
        raise ValidationError({field: [_("This value contains a NUL character.")]})
    if len(text) > limit:
        raise ValidationError({field: [_("Use at most %(n)s characters.") % {"n": limit}]})
    return text


def _run_url(value: Any) -> str:
    url = _text(value, "run_url", MAX_URL)
    if url and not url.lower().startswith(("http://", "https://")):
        raise ValidationError({"run_url": [_("The run link must be an http or https address.")]})
    return url


def report_receive(
    *,
    actor: User,
    project: Project,
    kind: str,
    data: bytes,
    file_name: str = "",
    run_id: str = "",
    run_url: str = "",
    commit: str = "",
    source: str = "",
) -> tuple[Report, bool]:
    """Store a report and return it with True, or the report already received for this CI run with False."""
    _require(actor, project, Role.EDITOR)
    if kind not in ReportKind.values:
        raise ValidationError(
            {"kind": [_("Unknown kind; use one of: %(kinds)s.") % {"kinds": ", ".join(ReportKind.values)}]}
        )
    if len(data) > report_size_limit():
        raise ReportTooLarge(too_large_message(len(data)))
    run_id = _text(run_id, "run_id", MAX_RUN_FIELD)
    fields = {
        "run_url": _run_url(run_url),
        "commit": _text(commit, "commit", MAX_RUN_FIELD),
        "source": _text(source, "source", 100),
        "file_name": _text(file_name, "file", 255),
    }
    if run_id and (existing := Report.objects.filter(project=project, kind=kind, run_id=run_id).first()):
        return existing, False
    try:
        parsed = parse(kind, data)
    except ReportError as error:
        raise ValidationError({"file": [str(error)]}) from None
    mapped = mapping.map_checks(
        parsed.checks, kind=kind, rules=selectors.mapping_rules(project=project), known=selectors.item_codes()
    )
    try:
        with transaction.atomic():
            report = Report.objects.create(
                project=project,
                kind=kind,
                run_id=run_id,
                reported_at=parsed.reported_at or timezone.now(),
                received_by=actor if actor.pk else None,
                file_size=len(data),
                # Level 1: several times faster than the default on large XML, and still about 10x smaller.
                raw=gzip.compress(data, compresslevel=1),
                check_count=len(parsed.checks),
                checks=[{**parsed.checks[index].as_json(), "items": list(items)} for index, items in mapped.items()],
                unmapped=_unmapped_names(parsed.checks, mapped),
                unmapped_count=len(parsed.checks) - len(mapped),
                **fields,
            )
    except IntegrityError:  # the same CI run posted twice at the same moment: the first one wins
        return Report.objects.get(project=project, kind=kind, run_id=run_id), False
    _prune(project, kind)
    # A new report may fail an item an answer was accepted from (audits.staleness).
    live_score_check_after_commit(project.pk)
    return report, True


def _unmapped_names(checks: list, mapped: dict[int, tuple[str, ...]]) -> list[str]:
    names: list[str] = []
    for index, check in enumerate(checks):
        if index not in mapped:
            names.append(check.name)
            if len(names) == MAX_UNMAPPED_NAMES:
                break
    return names


def _prune(project: Project, kind: str) -> None:
    """Keep the newest MLAUDIT_REPORTS_KEEP reports per project and kind: enough for the recurrence window."""
    keep = settings.MLAUDIT_REPORTS_KEEP
    stale = (
        Report.objects.filter(project=project, kind=kind)
        .order_by("-reported_at", "-pk")
        .values_list("pk", flat=True)[keep:]
    )
    Report.objects.filter(pk__in=list(stale)).delete()


def mapping_add(*, actor: User, project: Project, pattern: str, item_code: str, kind: str = "") -> ReportMapping:
    _require(actor, project, Role.MANAGER)
    pattern = _text(pattern, "pattern", 200)
    if not pattern:
        raise ValidationError({"pattern": [_("Give a pattern, e.g. tests/test_features.py::* or *schema*.")]})
    item_code = _text(item_code, "item", 50).lower()
    if item_code not in selectors.item_codes():
        raise ValidationError({"item": [_("No rubric item has the code “%(code)s”.") % {"code": item_code}]})
    if kind and kind not in ReportKind.values:
        raise ValidationError(
            {"kind": [_("Unknown kind; use one of: %(kinds)s.") % {"kinds": ", ".join(ReportKind.values)}]}
        )
    rule, _created = ReportMapping.objects.get_or_create(
        project=project, kind=kind, pattern=pattern, item_code=item_code
    )
    return rule


def mapping_delete(*, actor: User, project: Project, mapping_id: int) -> None:
    _require(actor, project, Role.MANAGER)
    ReportMapping.objects.filter(project=project, pk=mapping_id).delete()
