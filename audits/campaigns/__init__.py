"""Campaigns: a target for a scope of projects by a date (services write, selectors read)."""
