"""gunicorn settings for the `web` service (`gunicorn -c config/gunicorn.py`).

Workers come from WEB_CONCURRENCY (gunicorn's own variable); the app logs one line
per request itself (config/logging.py), so gunicorn's access log stays off.
"""

import os
from pathlib import Path

from config.logging import logging_config

wsgi_app = "config.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
# Time a worker gets to finish its current request after SIGTERM.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "20"))
# Recycling workers now and then bounds any slow memory growth.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "1000"))
max_requests_jitter = max_requests // 10
accesslog = None
# gunicorn's own messages (start, worker boots and timeouts) in the same format as the app's.
_debug = os.environ.get("DEBUG", "true").lower() in {"1", "true", "yes", "on"}
logconfig_dict = logging_config(
    json_lines=os.environ.get("LOG_FORMAT", "text" if _debug else "json") == "json",
    level=os.environ.get("LOG_LEVEL", "INFO"),
)
logconfig_dict["loggers"]["gunicorn.error"] = {"handlers": ["console"], "level": "INFO", "propagate": False}
# Docker's /tmp may be on overlayfs; worker heartbeats belong in memory.
if Path("/dev/shm").is_dir():
    worker_tmp_dir = "/dev/shm"
