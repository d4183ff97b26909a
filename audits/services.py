"""Writes. Pages, the API and tasks call these, so each rule is written once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, models, transaction
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from audits.assignments.carry import carry_over_assignments
from audits.exemptions.requests import carried_answer, clean_request, exemption_fields
from audits.exemptions.rules import counted_status
from audits.models import Answer, AnswerChange, Audit, AuditStatus, Membership, Project, Role, Team, effective_role
from audits.notifications.tasks import audit_submitted
from audits.selectors import audit_score, has_audit_role, has_role, latest_submitted_audit
from audits.types import Actor, User
from config.validators import contains_nul, nul_message, reject_nul
from rubric.models import AnswerStatus, Item, Rubric
from rubric.selectors import default_rubric, item_ids, items_allowing_not_applicable

MAX_EVIDENCE_LINKS = 20
MAX_URL_LENGTH = 2000
MAX_NOTES_LENGTH = 10000  # the API's limit per answer; the request body limit (settings) is sized from it
_url_validator = URLValidator(schemes=["http", "https"])


class AuditLocked(Exception):
    """The audit is submitted: its answers are frozen."""


@dataclass
class AnswerConflict(Exception):
    """Someone saved this answer after the version the caller started from."""

    current: Answer


def _require(user: Actor, team: Team, role: str) -> None:
    if not has_role(user=user, team=team, at_least=role):
        raise PermissionDenied(_("Your role in this team does not allow this."))


def validate_evidence(links: Any) -> list[str]:
    """Clean a list of evidence links: http(s) only, stripped, no blanks or duplicates."""
    if links is None:
        return []
    if isinstance(links, str):
        links = links.splitlines()
    if not isinstance(links, list | tuple):
        raise ValidationError(_("Evidence must be a list of links."))
    cleaned: list[str] = []
    for raw in links:
        link = str(raw).strip()
        if not link or link in cleaned:
            continue
        if contains_nul(link):
            raise ValidationError(nul_message())
        if len(link) > MAX_URL_LENGTH:
            raise ValidationError(_("An evidence link is longer than %(n)s characters.") % {"n": MAX_URL_LENGTH})
        try:
            _url_validator(link)
        except ValidationError:
            raise ValidationError(_("“%(link)s” is not an http or https link.") % {"link": link}) from None
        cleaned.append(link)
    if len(cleaned) > MAX_EVIDENCE_LINKS:
        raise ValidationError(_("At most %(n)s evidence links per answer.") % {"n": MAX_EVIDENCE_LINKS})
    return cleaned


def validate_status(status: Any) -> str:
    if status not in AnswerStatus.values:
        raise ValidationError(
            _("“%(status)s” is not a valid status; use one of: %(valid)s.")
            % {"status": status, "valid": ", ".join(AnswerStatus.values)}
        )
    return str(status)


def unique_slug(model: type[Team] | type[Project], text: str) -> str:
    base = slugify(text)[:90] or "item"
    slug, n = base, 2
    while model.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


# Teams ---------------------------------------------------------------------


def team_create(*, name: str, creator: User, slug: str | None = None) -> Team:
    reject_nul(name, "name")
    with transaction.atomic():
        team = Team.objects.create(name=name, slug=slug or unique_slug(Team, name))
        Membership.objects.create(team=team, user=creator, role=Role.MANAGER)
    return team


def membership_set(*, actor: User, team: Team, username_or_email: str, role: str) -> Membership:
    _require(actor, team, Role.MANAGER)
    if role not in Role.values:
        raise ValidationError(_("Unknown role “%(role)s”.") % {"role": role})
    needle = username_or_email.strip()
    users = get_user_model().objects.filter(Q(username__iexact=needle) | Q(email__iexact=needle), is_active=True)
    if not needle or users.count() != 1:
        raise ValidationError(_("No single active user has the username or email “%(u)s”.") % {"u": needle})
    user = users.get()
    with transaction.atomic():
        _lock_team(actor, team)
        membership, _created = Membership.objects.get_or_create(team=team, user=user, defaults={"role": role})
        if membership.hand_granted_role != role:
            # A role from provider groups stays beside the hand-granted one (audits/sso/services.py).
            in_force = effective_role(role, membership.group_role)
            _ensure_a_manager_remains(team, leaving=membership if in_force != Role.MANAGER else None)
            membership.hand_role = role if membership.group_role else ""
            membership.role = in_force
            membership.save(update_fields=["role", "hand_role"])
    return membership


def membership_remove(*, actor: User, membership: Membership) -> None:
    _require(actor, membership.team, Role.MANAGER)
    with transaction.atomic():
        _lock_team(actor, membership.team)
        current = Membership.objects.filter(pk=membership.pk).first()  # its role may have changed meanwhile
        if current is None:
            return
        if current.group_role:
            _remove_hand_grant(current)
            return
        _ensure_a_manager_remains(membership.team, leaving=current)
        current.delete()


def _remove_hand_grant(membership: Membership) -> None:
    """Only the hand-granted part of a membership can be removed here; a role from provider groups goes when
    the provider stops sending the group (the next sign-in)."""
    if not membership.hand_role:
        raise ValidationError(
            _("%(user)s is in this team through the provider group %(groups)s: remove them from the group there.")
            % {"user": membership.user.get_username(), "groups": ", ".join(membership.group_names)}
        )
    if membership.group_role != Role.MANAGER:
        _ensure_a_manager_remains(membership.team, leaving=membership)
    membership.role, membership.hand_role = membership.group_role, ""
    membership.save(update_fields=["role", "hand_role"])


def _lock_team(actor: Actor, team: Team) -> None:
    """Serialise membership changes of one team. Without it two managers demoting or removing each other
    at the same moment each saw the other still a manager, and the team was left with none. The actor's
    own role is checked again under the lock, since a concurrent change may just have taken it away."""
    Team.objects.select_for_update().filter(pk=team.pk).order_by().first()
    _require(actor, team, Role.MANAGER)


def _ensure_a_manager_remains(team: Team, *, leaving: Membership | None) -> None:
    if leaving is None or leaving.role != Role.MANAGER:
        return
    others = team.memberships.filter(role=Role.MANAGER).exclude(pk=leaving.pk)
    if not others.exists():
        raise ValidationError(_("A team needs at least one manager."))


# Projects ------------------------------------------------------------------

# Parallel creations of one name each pick a free slug, then race to insert it; this many tries each.
SLUG_ATTEMPTS = 5
PROJECT_FIELDS = (
    "name", "description", "owner_contact", "audit_cadence_days", "badge_public",
    "evidence_fresh_days_automated", "evidence_fresh_days_manual",
)  # fmt: skip
# Fields whose limits are the model's validators, checked here for callers that skip forms and serializers.
LIMITED_PROJECT_FIELDS = ("audit_cadence_days", "evidence_fresh_days_automated", "evidence_fresh_days_manual")


def _check_cadence(fields: dict[str, Any]) -> None:
    """The model's rules for the limited fields, for callers that do not go through a form or a serializer."""
    for name in LIMITED_PROJECT_FIELDS:
        if name in fields:
            try:
                field = Project._meta.get_field(name)
                assert isinstance(field, models.Field)
                field.clean(fields[name], None)
            except ValidationError as error:
                raise ValidationError({name: error.messages}) from None


def project_create(*, actor: User, team: Team, name: str, slug: str | None = None, **fields: Any) -> Project:
    _require(actor, team, Role.MANAGER)
    unknown = set(fields) - set(PROJECT_FIELDS)
    if unknown:
        raise ValueError(f"Unknown project fields: {sorted(unknown)}")
    if not name.strip():
        raise ValidationError({"name": [_("A project needs a name.")]})
    for field, value in {"name": name, "slug": slug, **fields}.items():
        reject_nul(value, field)
    _check_cadence(fields)
    taken = ValidationError({"slug": [_("This slug is already taken.")]})
    if slug:
        if slugify(slug) != slug:
            raise ValidationError({"slug": [_("Use lowercase letters, digits and hyphens.")]})
        if Project.objects.filter(slug=slug).exists():
            raise taken
    for _attempt in range(SLUG_ATTEMPTS):
        try:
            # A savepoint: the failed insert must not break a transaction the caller may hold.
            with transaction.atomic():
                return Project.objects.create(
                    team=team, name=name.strip(), slug=slug or unique_slug(Project, name), **fields
                )
        except IntegrityError:
            if slug:  # a slug the caller chose is theirs to change
                raise taken from None
            # Another request took the slug chosen from the name between the check and the insert;
            # the next attempt sees it and picks the next free one (name-2, name-3...).
    raise taken


def project_update(*, actor: User, project: Project, **fields: Any) -> Project:
    _require(actor, project.team, Role.MANAGER)
    unknown = set(fields) - set(PROJECT_FIELDS)
    if unknown:
        raise ValueError(f"Unknown project fields: {sorted(unknown)}")
    if "name" in fields and not str(fields["name"]).strip():
        raise ValidationError({"name": [_("A project needs a name.")]})
    for field, value in fields.items():
        reject_nul(value, field)
    _check_cadence(fields)
    for field, value in fields.items():
        setattr(project, field, value)
    project.save()
    return project


def project_delete(*, actor: User, project: Project) -> None:
    _require(actor, project.team, Role.MANAGER)
    project.delete()


# Audits --------------------------------------------------------------------


def audit_start(
    *, actor: User, project: Project, rubric: Rubric | None = None, copy_from_latest: bool = False
) -> Audit:
    """Start a draft audit, blank or with the last submitted audit's answers carried over."""
    _require(actor, project.team, Role.MANAGER)
    rubric = rubric or default_rubric()
    if rubric is None:
        raise ValidationError({"rubric": [_("No rubric is loaded; run manage.py load_rubric first.")]})
    source = latest_submitted_audit(project=project) if copy_from_latest else None
    if copy_from_latest and source is None:
        raise ValidationError({"copy_from_latest": [_("This project has no submitted audit to copy from.")]})
    with transaction.atomic():
        audit = Audit.objects.create(project=project, rubric=rubric, created_by=actor, copied_from=source)
        if source is not None:
            _carry_over_answers(source, audit)
            carry_over_assignments(source, audit)
    return audit


def _carry_over_answers(source: Audit, target: Audit) -> None:
    """Copy answers item by item code, so a copy onto a newer rubric version keeps what still applies
    (exemptions keep their decision and expiry: audits.exemptions.requests.carried_answer)."""
    items_by_code = {item.code: item for item in Item.objects.filter(rubric=target.rubric)}
    Answer.objects.bulk_create(
        carried_answer(target, items_by_code[old.item.code], old)
        for old in source.answers.select_related("item")
        if old.item.code in items_by_code
    )


def _locked() -> AuditLocked:
    return AuditLocked(_("This audit is submitted and can no longer change; start a new audit instead."))


def _check_draft(audit: Audit) -> None:
    if audit.status != AuditStatus.DRAFT:
        raise _locked()


@dataclass(frozen=True)
class SavedAnswer:
    """What one save leaves behind: the answer, every answer's status by item code (enough to score the
    audit without reading it again) and whether the save recorded a change in the history."""

    answer: Answer
    statuses: dict[str, str]
    changed: bool


def answer_save(
    *,
    actor: User,
    audit: Audit,
    item_code: str,
    status: str,
    notes: str = "",
    evidence: Any = None,
    base_version: int | None = None,
    expires_on: Any = None,
) -> Answer:
    """Save one answer. `base_version` is the version the caller last saw (0: no answer yet);
    a save based on an older version raises AnswerConflict instead of overwriting. `expires_on` is the
    expiry of a not-applicable answer (an exemption request; audits.exemptions.requests)."""
    return answer_save_detailed(
        actor=actor,
        audit=audit,
        item_code=item_code,
        status=status,
        notes=notes,
        evidence=evidence,
        base_version=base_version,
        expires_on=expires_on,
    ).answer


def answer_save_detailed(
    *,
    actor: User,
    audit: Audit,
    item_code: str,
    status: str,
    notes: str = "",
    evidence: Any = None,
    base_version: int | None = None,
    expires_on: Any = None,
) -> SavedAnswer:
    """answer_save, also returning the audit's counted statuses after the save (an exemption counts only
    approved and unexpired), read from the rows it locks anyway."""
    if not has_audit_role(user=actor, audit=audit, at_least=Role.EDITOR):
        raise PermissionDenied(_("Your role in this team does not allow this."))
    _check_draft(audit)
    status = validate_status(status)
    links = validate_evidence(evidence)
    reject_nul(notes, "notes")
    ids = item_ids(audit.rubric)
    if item_code not in ids:
        raise ValidationError({"item": [_("Unknown item “%(code)s” for this rubric.") % {"code": item_code}]})
    today = timezone.localdate()
    expiry = clean_request(
        status=status,
        notes=notes or "",
        expires_on=expires_on,
        item_code=item_code,
        allowed=items_allowing_not_applicable(audit.rubric),
        today=today,
    )
    codes = {pk: code for code, pk in ids.items()}
    try:
        with transaction.atomic():
            # Touching the draft locks its row (saves of one audit take turns) and says whether it is
            # still a draft, in one statement.
            if not Audit.objects.filter(pk=audit.pk, status=AuditStatus.DRAFT).update(updated_at=timezone.now()):
                raise _locked()
            # Every answer of the audit: the audit row is locked already, so locking its answers too costs
            # no concurrency, and their statuses score the audit without another query.
            answers = {codes[a.item_id]: a for a in _lock_answers(audit)}
            answer = answers.get(item_code)
            current_version = answer.version if answer else 0
            if base_version is not None and base_version != current_version and answer is not None:
                raise AnswerConflict(current=answer)
            saved, changed = _apply_answer(
                actor, audit, ids[item_code], answer, status, notes or "", links, touch_audit=False, expires_on=expiry
            )
    except IntegrityError:
        # A concurrent first save of the same item won the race.
        raise AnswerConflict(current=Answer.objects.get(audit=audit, item__code=item_code)) from None
    answers[item_code] = saved
    statuses = {code: counted_status(a.status, a.exemption_state, a.expires_on, today) for code, a in answers.items()}
    return SavedAnswer(answer=saved, statuses=statuses, changed=changed)


def _lock_answers(audit: Audit) -> QuerySet[Answer]:
    """This audit's answer rows, locked for update. Only those rows: Answer's default ordering joins the
    rubric's items and sections, and FOR UPDATE over that join locked rubric rows every audit shares, so
    saves on different audits deadlocked against the foreign-key locks of each other's inserts."""
    return Answer.objects.select_for_update(of=("self",)).filter(audit=audit).order_by("pk")


def _apply_answer(
    actor: User,
    audit: Audit,
    item_id: int,
    answer: Answer | None,
    status: str,
    notes: str,
    links: list[str],
    touch_audit: bool = True,
    expires_on: Any = None,
) -> tuple[Answer, bool]:
    """Write the answer; the flag says whether a change was recorded in its history. A not-applicable
    answer whose justification or expiry changes is a new exemption request, recorded in the history."""
    now = timezone.now()
    exemption = exemption_fields(
        answer=answer, status=status, notes=notes, expires_on=expires_on, actor=actor, today=timezone.localdate()
    )
    if answer is None:
        answer = Answer.objects.create(
            audit=audit,
            item_id=item_id,
            status=status,
            notes=notes,
            evidence=links,
            answered_by=actor,
            answered_at=now,
            **exemption,
        )
        AnswerChange.record(answer=answer, changed_by=actor, new=True)
        if touch_audit:
            Audit.objects.filter(pk=audit.pk).update(updated_at=now)
        return answer, True
    unchanged = answer.status == status and answer.notes == notes and answer.evidence == links and not exemption
    if unchanged and not answer.carried_over:
        return answer, False
    if not unchanged:
        AnswerChange.record(
            answer=answer,
            changed_by=actor,
            status=status,
            notes=notes,
            evidence=links,
            exemption=exemption.get("exemption_state", answer.exemption_state),
            expires_on=exemption.get("expires_on", answer.expires_on),
        )
    answer.status, answer.notes, answer.evidence = status, notes, links
    answer.carried_over = False
    answer.answered_by, answer.answered_at = actor, now
    answer.version += 1
    for field, value in exemption.items():
        setattr(answer, field, value)
    answer.save(
        update_fields=[
            "status",
            "notes",
            "evidence",
            "carried_over",
            "answered_by",
            "answered_at",
            "version",
            *exemption,
        ]
    )
    if touch_audit:
        Audit.objects.filter(pk=audit.pk).update(updated_at=now)
    return answer, not unchanged


@dataclass
class BulkAnswerError(Exception):
    """One or more elements of a bulk write are invalid; nothing was saved."""

    errors: dict[int, dict[str, list[str]]]


def answers_bulk_upsert(*, actor: User, audit: Audit, entries: list[dict[str, Any]]) -> list[Answer]:
    """Upsert answers by item code, all or nothing. Later entries for the same item win."""
    _require(actor, audit.project.team, Role.EDITOR)
    _check_draft(audit)
    items = {item.code: item for item in Item.objects.filter(rubric_id=audit.rubric_id)}
    allowed = frozenset(code for code, item in items.items() if item.allows_not_applicable)
    today = timezone.localdate()
    errors: dict[int, dict[str, list[str]]] = {}
    cleaned: dict[str, tuple[str, str, list[str], Any]] = {}
    for index, entry in enumerate(entries):
        entry_errors: dict[str, list[str]] = {}
        code = entry.get("item")
        if code not in items:
            entry_errors["item"] = [_("Unknown item “%(code)s” for this rubric.") % {"code": code}]
        for field, check in (("status", validate_status), ("evidence", validate_evidence)):
            try:
                check(entry.get(field))
            except ValidationError as exc:
                entry_errors[field] = list(exc.messages)
        notes = entry.get("notes", "")
        if not isinstance(notes, str):
            entry_errors["notes"] = [_("Notes must be text.")]
        elif contains_nul(notes):
            entry_errors["notes"] = [nul_message()]
        expiry = None
        if not entry_errors:
            try:
                expiry = clean_request(
                    status=str(entry["status"]),
                    notes=notes or "",
                    expires_on=entry.get("expires_on"),
                    item_code=str(code),
                    allowed=allowed,
                    today=today,
                )
            except ValidationError as exc:
                entry_errors.update(exc.message_dict)
        if entry_errors:
            errors[index] = entry_errors
        else:
            status = str(entry["status"])
            cleaned[str(code)] = (status, notes or "", validate_evidence(entry.get("evidence")), expiry)
    if errors:
        raise BulkAnswerError(errors=errors)
    with transaction.atomic():
        locked = Audit.objects.select_for_update().get(pk=audit.pk)
        _check_draft(locked)
        existing = {a.item_id: a for a in _lock_answers(audit)}
        return [
            _apply_answer(
                actor, audit, items[code].pk, existing.get(items[code].pk), status, notes, links, expires_on=expiry
            )[0]
            for code, (status, notes, links, expiry) in cleaned.items()
        ]


def project_refresh_latest_audits(projects: QuerySet[Project]) -> int:
    """Store each project's latest and previous submitted audits (and final scores) on it, in one UPDATE.

    Called by every write that changes which audits are submitted, and by commands that write audits in
    bulk or move their dates. Returns the number of projects updated.
    """
    submitted = Audit.objects.filter(project=OuterRef("pk"), status=AuditStatus.SUBMITTED).order_by(
        "-submitted_at", "-pk"
    )
    return projects.update(
        last_audit=Subquery(submitted.values("pk")[:1]),
        last_audit_at=Subquery(submitted.values("submitted_at")[:1]),
        last_audit_final=Subquery(submitted.values("final_score")[:1]),
        previous_audit=Subquery(submitted.values("pk")[1:2]),
        previous_audit_final=Subquery(submitted.values("final_score")[1:2]),
    )


def audit_submit(*, actor: User, audit: Audit) -> Audit:
    """Freeze the audit: its answers become read-only and its scores are stored."""
    _require(actor, audit.project.team, Role.MANAGER)
    with transaction.atomic():
        # The project first: two audits of one project submitted at once refresh its latest audits in turn,
        # each UPDATE then reading the other's committed audit (a fresh snapshot after the lock).
        project_rows = Project.objects.filter(pk=audit.project_id)
        list(project_rows.select_for_update().values_list("pk"))
        locked = Audit.objects.select_for_update().get(pk=audit.pk)
        _check_draft(locked)
        result = audit_score(audit=locked)
        locked.status = AuditStatus.SUBMITTED
        locked.submitted_by = actor
        locked.submitted_at = timezone.now()
        locked.final_score = result.final
        locked.section_scores = {s.key: float(s.score) for s in result.sections}
        locked.band_label = result.band.label if result.band else ""
        locked.final_strict_score = result.final_strict
        locked.exempted_count = len(result.exempted)
        locked.save()
        project_refresh_latest_audits(project_rows)
        # A lower score or band than the audit before is a regression alert (audits/notifications).
        # A lambda, not functools.partial: when a robust callback fails, Django logs its __qualname__.
        submitted_id = locked.pk
        transaction.on_commit(lambda: audit_submitted(submitted_id), robust=True)
    return locked


def audit_delete(*, actor: User, audit: Audit) -> None:
    _require(actor, audit.project.team, Role.MANAGER)
    _check_draft(audit)
    audit.delete()
