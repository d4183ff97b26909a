"""Notifications: record an event once, deliver it once to each channel of the team that subscribed to it.

Producers call `notify`; everything else (channels, delivery, the pages and the API) lives in this package.
"""

from audits.notifications.services import notify

__all__ = ["notify"]
