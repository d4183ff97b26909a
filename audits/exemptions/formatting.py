"""How a score says it includes exemptions, in every language (pages, exports, the badge)."""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from audits.formatting import score

# The badge's mark for a score that counts exemptions (the README explains it).
EXEMPTION_MARK = "*"


def exemption_note(exempted: int, final: Decimal | None, strict: Decimal | None, separator: str | None = None) -> str:
    """ "2 exemptions; without them: 1.5" beside a score that counts exemptions; "" when it counts none."""
    if not exempted:
        return ""
    count = ngettext("%(n)s exemption", "%(n)s exemptions", exempted) % {"n": exempted}
    if strict is None or strict == final:
        return count
    return _("%(count)s; without them: %(strict)s") % {"count": count, "strict": score(strict, separator)}
