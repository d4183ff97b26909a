"""Owners in the questionnaire's items: the owner tag and the assign form, filled per item from the parts
of `_item_parts.html` (rendered once per page, see audits.views.item_markup)."""

from __future__ import annotations

from collections.abc import Mapping

from audits.views.item_markup import Filler, text


class OwnerMarkup:
    def __init__(
        self, parts: Mapping[str, Filler], members: list[tuple[int, str]], can_assign: bool, url_pattern: str
    ) -> None:
        self.parts, self.members, self.can_assign, self.url_pattern = parts, members, can_assign, url_pattern

    def tag(self, owner: str) -> str:
        return self.parts["owner_tag"].fill({"owner": text(owner)}) if owner else ""

    def form(self, code: str, owner: str) -> str:
        if not self.can_assign:
            return ""
        option = self.parts["owner_option"]
        options = "".join(
            option.fill({"value": text(name), "name": text(name), "selected": " selected" if name == owner else ""})
            for _user_id, name in self.members
        )
        return self.parts["owner_form"].fill(
            {"action": text(self.url_pattern.format(code)), "code": text(code), "options": options}
        )
