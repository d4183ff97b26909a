from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from rubric.models import Item, Rubric, ScoreBand, Section


class ReadOnlyWhenUsedMixin:
    """Rubric rows come from data files; a version used by an audit is never edited in place."""

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        rubric = getattr(obj, "rubric", obj)
        if rubric is not None and rubric.audits.exists():
            return False
        return super().has_change_permission(request, obj)  # type: ignore[misc]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        rubric = getattr(obj, "rubric", obj)
        if rubric is not None and rubric.audits.exists():
            return False
        return super().has_delete_permission(request, obj)  # type: ignore[misc]


class SectionInline(ReadOnlyWhenUsedMixin, admin.TabularInline):
    model = Section
    extra = 0
    fields = ("order", "key", "title")


class ScoreBandInline(ReadOnlyWhenUsedMixin, admin.TabularInline):
    model = ScoreBand
    extra = 0
    fields = ("order", "lower", "upper", "label", "meaning")


class ItemInline(ReadOnlyWhenUsedMixin, admin.TabularInline):
    model = Item
    extra = 0
    fields = ("order", "code", "title")
    show_change_link = True


@admin.register(Rubric)
class RubricAdmin(ReadOnlyWhenUsedMixin, admin.ModelAdmin):
    list_display = ("title", "slug", "version", "loaded_at", "item_count")
    list_filter = ("slug",)
    search_fields = ("title", "slug", "version")
    readonly_fields = ("content_hash", "loaded_at")
    inlines = [SectionInline, ScoreBandInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # rubrics are loaded from data files: manage.py load_rubric

    @admin.display(description="Items")
    def item_count(self, obj: Rubric) -> int:
        return obj.items.count()


@admin.register(Section)
class SectionAdmin(ReadOnlyWhenUsedMixin, admin.ModelAdmin):
    list_display = ("title", "key", "rubric", "order")
    list_filter = ("rubric",)
    search_fields = ("title", "key")
    inlines = [ItemInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Item)
class ItemAdmin(ReadOnlyWhenUsedMixin, admin.ModelAdmin):
    list_display = ("code", "title", "section", "rubric")
    list_filter = ("rubric", "section__key")
    search_fields = ("code", "title", "guidance")
    list_select_related = ("section", "rubric")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(ScoreBand)
class ScoreBandAdmin(ReadOnlyWhenUsedMixin, admin.ModelAdmin):
    list_display = ("label", "lower", "upper", "rubric", "order")
    list_filter = ("rubric",)
    search_fields = ("label", "meaning")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
