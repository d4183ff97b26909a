"""Exemptions (answers `not_applicable`): rules (pure), services (writes), selectors (reads), tasks, views."""
