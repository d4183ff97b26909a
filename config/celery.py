import os

from celery import Celery

from config.logging import connect_celery_signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("mlaudit")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# config is not an app, so its diagnostic tasks are listed by hand.
app.conf.include = ["config.tasks"]
connect_celery_signals()
