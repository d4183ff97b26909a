"""Owners per item: who answers for each rubric item of a draft (models: audits.models.assignments)."""
