"""Settings of the gunicorn the load benchmark starts: production's, plus the benchmark's URLs."""

from config.settings import *  # noqa: F403

# The app's URLs, the portfolio benchmark's stack floors and the bare signed-in view (bench/load_urls.py).
ROOT_URLCONF = "bench.load_urls"
