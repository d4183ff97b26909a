"""Serializer fields shared by every API module (kept apart from serializers.py so any feature may import them)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from audits.formatting import plain


@extend_schema_field(OpenApiTypes.STR)
class ScoreTextField(serializers.Field):
    """A score as exact text ("1.5"), written by the one formatter (``audits.formatting.plain``)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> str:
        return plain(value)
