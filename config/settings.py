"""mlaudit settings: one module, configured entirely from the environment.

Every variable read here is documented in README.md ("Configuration").
With nothing set, mlaudit runs in its embedded mode: SQLite under var/,
Celery tasks executed in-process, DEBUG on.
"""

from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from config.logging import logging_config
from config.oidc import oidc_from_env
from config.security import csp_settings

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env")


def _secret(name: str, default: str | None = None) -> str | None:
    """Read NAME, or the file named by NAME_FILE (Docker/Kubernetes secrets)."""
    file_path = env.str(f"{name}_FILE", default="")
    if file_path:
        return Path(file_path).read_text().strip()
    return env.str(name, default=default)


DEBUG = env.bool("DEBUG", default=True)

SECRET_KEY = _secret("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. With DEBUG off mlaudit refuses to start without a secret key: "
            "set SECRET_KEY (or SECRET_KEY_FILE) to a long random string."
        )
    SECRET_KEY = "insecure-development-key-only-for-debug-mode"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "csp",  # django-csp: the Content-Security-Policy header (config/security.py) and its checks
    "rubric",
    "audits",
    "evidence",
    "integrations.mlflow",
    "integrations.reports",
]

MIDDLEWARE = [
    # First: probes answer before host checks and the HTTPS redirect; every other request gets an id.
    "config.health.HealthProbeMiddleware",
    "config.logging.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files: WhiteNoise serves hashed names (CompressedManifestStaticFilesStorage) with a one-year
    # immutable Cache-Control, other paths for WHITENOISE_MAX_AGE, and precompressed .gz/.br copies itself.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # HTML pages are gzip-compressed here, below WhiteNoise so static files are never compressed twice
    # (BREACH: see config/compression.py; Django masks the CSRF token anew in every response).
    "config.compression.HtmlGZipMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "audits.middleware.SignInRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: it turns lockouts into the "locked out" page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
            ],
        },
    },
]

VAR_DIR = Path(env.str("MLAUDIT_VAR_DIR", default=str(BASE_DIR / "var")))
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'mlaudit.sqlite3'}")}
_db_password = _secret("DATABASE_PASSWORD")
if _db_password:
    DATABASES["default"]["PASSWORD"] = _db_password
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Persistent connections: opening one costs about 12 ms per request on PostgreSQL. Each worker keeps its
# connection for DATABASE_CONN_MAX_AGE seconds (0: one per request, the development default) and checks it
# is still alive before reusing it, so a restarted database costs one failed check, not an error page.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=0 if DEBUG else 600)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Created up front: SQLite needs its folder, and WhiteNoise warns about a missing root.
for _folder in (VAR_DIR, STATIC_ROOT):
    _folder.mkdir(parents=True, exist_ok=True)
WHITENOISE_USE_FINDERS = DEBUG
# Unhashed static paths (anything not linked through {% static %}) change on upgrades: one minute of caching.
WHITENOISE_MAX_AGE = 0 if DEBUG else 60
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env.str(
            "STATICFILES_STORAGE",
            default="django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage",
        )
    },
}

# Celery: without a broker URL tasks run in-process (eager), so the embedded
# mode needs no Redis. With REDIS_URL (or CELERY_BROKER_URL) they go to workers.
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
# A web request that sends a task must not hang while the broker is down: one quick connection attempt and
# one retry, then the caller records the failure and answers "the task queue is unreachable".
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=2.0)
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}

# Logs (config/logging.py): JSON lines in production, readable text in development.
LOG_FORMAT = env.str("LOG_FORMAT", default="text" if DEBUG else "json")
LOGGING = logging_config(json_lines=LOG_FORMAT == "json", level=env.str("LOG_LEVEL", default="INFO"))
# Celery keeps the handlers above instead of installing its own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# Sign-in and brute-force protection (browser pages) ---------------------------
# Every page requires a signed-in user (audits.middleware.SignInRequiredMiddleware);
# public views opt out with @login_not_required, these prefixes handle access themselves.
SIGN_IN_EXEMPT_PATH_PREFIXES = ["/api/", "/admin/", "/healthz", "/readyz", "/static/", "/i18n/"]
LOGIN_URL = "account:login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "account:login"
AUTHENTICATION_BACKENDS = [
    # Refuses every password while MLAUDIT_LOCAL_PASSWORDS is off (the admin's sign-in included).
    "audits.auth_backends.LocalPasswordsGate",
    "audits.auth_backends.SignInThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
    # OpenID Connect (audits/sso/): answers only the provider's callback, and only while MLAUDIT_OIDC is set.
    "audits.sso.backend.OidcBackend",
]
# Single sign-on (config/oidc.py, README "Single sign-on"): None unless MLAUDIT_OIDC_ISSUER is set.
MLAUDIT_OIDC = oidc_from_env(
    lambda name: _secret(name, default=""),
    read_bool=env.bool,
    read_float=env.float,
)
# Passwords stay usable unless SSO is on and this is turned off; without SSO nobody could sign in otherwise.
MLAUDIT_LOCAL_PASSWORDS = env.bool("MLAUDIT_LOCAL_PASSWORDS", default=True)
if not MLAUDIT_LOCAL_PASSWORDS and MLAUDIT_OIDC is None:
    raise ImproperlyConfigured(
        "MLAUDIT_LOCAL_PASSWORDS is off but single sign-on is not configured (MLAUDIT_OIDC_ISSUER): "
        "nobody could sign in. Configure SSO or turn local passwords back on."
    )
# mozilla-django-oidc's fixed choices; everything provider-specific comes from MLAUDIT_OIDC (audits/sso/backend.py).
OIDC_USE_PKCE = True
OIDC_STORE_ID_TOKEN = True  # the id_token_hint of RP-initiated logout
OIDC_AUTHENTICATION_CALLBACK_URL = "account:oidc-callback"
# django-axes: after LOGIN_FAILURE_LIMIT wrong passwords for one username from one address,
# that pair is locked out for LOGIN_LOCKOUT_MINUTES.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.int("LOGIN_LOCKOUT_MINUTES", default=15) / 60
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
# Password-reset mails. The default prints them to the log, which suits the embedded mode;
# set EMAIL_URL (e.g. smtp+tls://user:password@mail.example.com:587) to send real mail.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="mlaudit@localhost")

# Production deployment: probes, security headers, content security policy -----
# (see README "Operations"). Every value below can be tuned by the environment variable of the same name.
HEALTH_CHECK_TIMEOUT = env.float("HEALTH_CHECK_TIMEOUT", default=2.0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Fail fast (a 503 from /readyz) instead of hanging when PostgreSQL is unreachable.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=5)
    )
# config/security.py (django-csp): scripts and styles from this site; an inline <script> needs
# nonce="{{ CSP_NONCE }}". While DEBUG is on the policy is only reported (browser console), so development
# shows what production blocks.
CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY_REPORT_ONLY = csp_settings(
    env.str("CONTENT_SECURITY_POLICY", default=None), report_only=env.bool("CSP_REPORT_ONLY", default=DEBUG)
)
SECURE_REFERRER_POLICY = env.str("SECURE_REFERRER_POLICY", default="same-origin")
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    # TLS ends at a reverse proxy, which must set X-Forwarded-Proto (and overwrite any value a client sent).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=True)

# Evidence from MLflow (integrations/mlflow; README "Evidence from MLflow").
# Credentials of MLflow connections are encrypted with the first of these Fernet keys (all of them decrypt,
# for rotation); without any, a key derived from SECRET_KEY is used.
MLAUDIT_SECRET_ENCRYPTION_KEYS = [
    key for key in (_secret("MLAUDIT_SECRET_ENCRYPTION_KEY") or "").split(",") if key.strip()
]
MLAUDIT_MLFLOW_ALLOWED_HOSTS = env.list("MLAUDIT_MLFLOW_ALLOWED_HOSTS", default=[])
MLAUDIT_MLFLOW_DENIED_HOSTS = env.list("MLAUDIT_MLFLOW_DENIED_HOSTS", default=[])
MLAUDIT_MLFLOW_TIMEOUT = env.float("MLAUDIT_MLFLOW_TIMEOUT", default=30.0)
MLAUDIT_MLFLOW_TEST_TIMEOUT = env.float("MLAUDIT_MLFLOW_TEST_TIMEOUT", default=5.0)
MLAUDIT_MLFLOW_HTTP_RETRIES = env.int("MLAUDIT_MLFLOW_HTTP_RETRIES", default=3)
MLAUDIT_MLFLOW_HTTP_BACKOFF = env.float("MLAUDIT_MLFLOW_HTTP_BACKOFF", default=0.5)
MLAUDIT_MLFLOW_PAGE_SIZE = env.int("MLAUDIT_MLFLOW_PAGE_SIZE", default=1000)
# A sync gets TIME_LIMIT seconds (then it stops and is recorded failed), and GRACE more before the worker
# kills it; past that hard limit a sync still "running" is taken to have lost its worker.
MLAUDIT_MLFLOW_SYNC_TIME_LIMIT = env.int("MLAUDIT_MLFLOW_SYNC_TIME_LIMIT", default=900)
MLAUDIT_MLFLOW_SYNC_GRACE = env.int("MLAUDIT_MLFLOW_SYNC_GRACE", default=30)
MLAUDIT_MLFLOW_SYNC_HARD_TIME_LIMIT = MLAUDIT_MLFLOW_SYNC_TIME_LIMIT + MLAUDIT_MLFLOW_SYNC_GRACE
MLAUDIT_MLFLOW_SYNC_MAX_RETRIES = env.int("MLAUDIT_MLFLOW_SYNC_MAX_RETRIES", default=5)
MLAUDIT_MLFLOW_SYNC_RETRY_BASE = env.float("MLAUDIT_MLFLOW_SYNC_RETRY_BASE", default=30.0)
MLAUDIT_MLFLOW_SYNC_RETRY_MAX = env.float("MLAUDIT_MLFLOW_SYNC_RETRY_MAX", default=900.0)
MLAUDIT_MLFLOW_NIGHTLY_HOUR = env.int("MLAUDIT_MLFLOW_NIGHTLY_HOUR", default=2)
# Tasks are acknowledged when they end (acks_late), so a message whose worker died goes back to the queue
# once Redis has held it unacknowledged this long. It must outlast the longest run (the hard limit) and the
# longest retry wait (Redis also holds a retry's countdown unacknowledged), else a live task runs twice; kombu's
# default of one hour would leave a sync of a killed worker waiting an hour.
MLAUDIT_TASK_VISIBILITY_TIMEOUT = env.int(
    "MLAUDIT_TASK_VISIBILITY_TIMEOUT",
    default=int(max(MLAUDIT_MLFLOW_SYNC_HARD_TIME_LIMIT, MLAUDIT_MLFLOW_SYNC_RETRY_MAX)) + 60,
)
if max(MLAUDIT_MLFLOW_SYNC_HARD_TIME_LIMIT, MLAUDIT_MLFLOW_SYNC_RETRY_MAX) >= MLAUDIT_TASK_VISIBILITY_TIMEOUT:
    raise ImproperlyConfigured(
        f"MLAUDIT_TASK_VISIBILITY_TIMEOUT ({MLAUDIT_TASK_VISIBILITY_TIMEOUT} s) must be longer than a sync's hard "
        f"time limit ({MLAUDIT_MLFLOW_SYNC_HARD_TIME_LIMIT} s) and its longest retry wait "
        f"({MLAUDIT_MLFLOW_SYNC_RETRY_MAX} s), "
        "or a sync still running would be delivered to a second worker."
    )
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": MLAUDIT_TASK_VISIBILITY_TIMEOUT,
    "socket_connect_timeout": CELERY_BROKER_CONNECTION_TIMEOUT,
    # How often a worker looks for messages past the visibility timeout (kombu's default: 10 s).
    "unacked_restore_interval": env.float("CELERY_UNACKED_RESTORE_INTERVAL", default=10.0),
}
# Registry webhooks: a delivery signed more than this many seconds from now (either way) is refused.
MLAUDIT_MLFLOW_WEBHOOK_TOLERANCE = env.int("MLAUDIT_MLFLOW_WEBHOOK_TOLERANCE", default=300)
# Evidence levels (evidence/levels.py): "automated" needs the check on each of the last COUNT subjects
# (serving versions, scheduled runs) spanning at least DAYS days, or PIPELINE_RUNS runs launched by a system,
# and the latest sighting at most FRESH_DAYS old.
MLAUDIT_EVIDENCE_RECURRENCE_COUNT = env.int("MLAUDIT_EVIDENCE_RECURRENCE_COUNT", default=3)
MLAUDIT_EVIDENCE_RECURRENCE_DAYS = env.float("MLAUDIT_EVIDENCE_RECURRENCE_DAYS", default=14.0)
MLAUDIT_EVIDENCE_FRESH_DAYS = env.float("MLAUDIT_EVIDENCE_FRESH_DAYS", default=90.0)
MLAUDIT_EVIDENCE_PIPELINE_RUNS = env.int("MLAUDIT_EVIDENCE_PIPELINE_RUNS", default=2)
CELERY_BEAT_SCHEDULE = {
    # Each connection has its own schedule (next_sync_at); this only looks for the ones that are due.
    "mlflow-evidence-dispatch-due-syncs": {
        "task": "mlflow_evidence.dispatch_due_syncs",
        "schedule": env.float("MLAUDIT_MLFLOW_DISPATCH_EVERY", default=300.0),
    },
}

# Notifications (audits/notifications; README "Notifications"). Links in mails and webhooks start with
# MLAUDIT_BASE_URL (tasks have no request to take the site's address from).
MLAUDIT_BASE_URL = env.str("MLAUDIT_BASE_URL", default="http://localhost:8000")
MLAUDIT_NOTIFY_WEBHOOK_TIMEOUT = env.float("MLAUDIT_NOTIFY_WEBHOOK_TIMEOUT", default=10.0)
MLAUDIT_NOTIFY_MAX_RETRIES = env.int("MLAUDIT_NOTIFY_MAX_RETRIES", default=5)
MLAUDIT_NOTIFY_RETRY_BASE = env.float("MLAUDIT_NOTIFY_RETRY_BASE", default=30.0)
MLAUDIT_NOTIFY_RETRY_MAX = env.float("MLAUDIT_NOTIFY_RETRY_MAX", default=600.0)
CELERY_BEAT_SCHEDULE |= {
    # Deliveries whose task the broker refused or lost are sent again; the ledger keeps them from sending twice.
    "notifications-resend-pending": {"task": "notifications.resend_pending", "schedule": 600.0},
    # Daily: audits due in 14 days, today, or overdue (each reminder fires once, by its key).
    "notifications-scan-due-audits": {
        "task": "notifications.scan_due_audits",
        "schedule": crontab(hour=env.int("MLAUDIT_NOTIFY_DAILY_HOUR", default=7), minute=0),
    },
    # Weekly: one digest per team.
    "notifications-weekly-digests": {
        "task": "notifications.send_weekly_digests",
        "schedule": crontab(hour=env.int("MLAUDIT_NOTIFY_DAILY_HOUR", default=7), minute=15, day_of_week="mon"),
    },
}

# Campaign reminders (audits/campaigns; README "Campaigns"): once a day, at the points before each due date.
CELERY_BEAT_SCHEDULE |= {
    "campaigns-dispatch-reminders": {"task": "campaigns.dispatch_reminders", "schedule": 86400.0},
}

# Exemptions (audits/exemptions; README "Not applicable and exemptions"): once a day, teams are told of the
# exemptions that expire in 14 days and today, at this hour (the server's TIME_ZONE).
CELERY_BEAT_SCHEDULE |= {
    "exemptions-notify-expiring": {
        "task": "exemptions.notify_expiring",
        "schedule": crontab(hour=env.int("MLAUDIT_EXEMPTION_NOTIFY_HOUR", default=7), minute=0),
    },
}

# REST API (audits/api; README "REST API") --------------------------------------
# Scripts authenticate with `Authorization: Token <key>`, the browser with its session. Request rates are
# counted per token (or signed-in user) and per anonymous client address, in Django's cache.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "audits.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    # JSON that nests too deeply is a 400, not a RecursionError (audits/api/parsers.py).
    "DEFAULT_PARSER_CLASSES": [
        "audits.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "audits.api.pagination.ApiPagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_THROTTLE_CLASSES": [
        "audits.api.throttling.TokenRateThrottle",
        "audits.api.throttling.AnonymousRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "user": env.str("MLAUDIT_API_THROTTLE_USER", default="600/minute"),
        "anon": env.str("MLAUDIT_API_THROTTLE_ANON", default="60/minute"),
    },
    "EXCEPTION_HANDLER": "audits.api.exceptions.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
# Throttle counters must be shared by every web worker: in Redis when REDIS_URL is set, else per process.
# After Redis failed, each process counts on its own for this many seconds before trying Redis again.
MLAUDIT_API_THROTTLE_CACHE_RETRY = env.float("MLAUDIT_API_THROTTLE_CACHE_RETRY", default=60.0)
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    # Short timeouts: while Redis is unreachable the API counts per process (audits/api/throttling.py).
    "api-throttle": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "api-throttle"},
}
# Request bodies: the largest answers PATCH the API allows (audits.api.views.MAX_BULK_ANSWERS answers with
# audits.services.MAX_NOTES_LENGTH characters of notes, sent as UTF-8 JSON) must fit; bigger bodies get 413.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=32 * 1024 * 1024)
SPECTACULAR_SETTINGS = {
    "TITLE": "mlaudit API",
    "DESCRIPTION": (
        "Projects, audits, answers and ML Test Score results. Authenticate with `Authorization: Token <key>`."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Two choice sets share the field name "kind": each keeps a name of its own (the reports' one as before).
    "ENUM_NAME_OVERRIDES": {
        "KindEnum": "integrations.reports.models.ReportKind",
        # Answer statuses appear as status, from and to; one enum name for all of them.
        "AnswerStatusEnum": "rubric.models.AnswerStatus",
        "NotificationChannelKindEnum": "audits.models.notifications.ChannelKind",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "audits.api.schema.constrain_path_parameters",
        "audits.api.schema.document_universal_errors",
    ],
}

# Production deployment: client addresses behind the TLS proxy (config/proxy.py) ---
# Sign-in lockouts and API rate limits count per client address. Behind a proxy REMOTE_ADDR is the proxy's,
# so the address comes from X-Forwarded-For as the last of TRUSTED_PROXY_COUNT proxies recorded it.
# Set 0 when clients reach gunicorn directly (they could then forge the header).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0 if DEBUG else 1)
AXES_CLIENT_IP_CALLABLE = "config.proxy.client_ip"
# 0, not None: DRF reads None as "take the whole X-Forwarded-For header", which any client can write.
# (The throttles themselves use config.proxy.client_ip; this keeps DRF's own reading the same.)
REST_FRAMEWORK["NUM_PROXIES"] = TRUSTED_PROXY_COUNT  # type: ignore[assignment]  # mixed-value dict

# CI reports (integrations/reports): size limit per file, how many to keep per project and kind, and what
# makes a check "automated" there (K distinct CI runs over D days, the latest within F days).
MLAUDIT_REPORT_MAX_BYTES = env.int("MLAUDIT_REPORT_MAX_BYTES", default=20 * 1024 * 1024)
MLAUDIT_REPORTS_KEEP = env.int("MLAUDIT_REPORTS_KEEP", default=50)
MLAUDIT_REPORTS_RECURRENCE_COUNT = env.int("MLAUDIT_REPORTS_RECURRENCE_COUNT", default=3)
MLAUDIT_REPORTS_RECURRENCE_DAYS = env.float("MLAUDIT_REPORTS_RECURRENCE_DAYS", default=7.0)
MLAUDIT_REPORTS_FRESH_DAYS = env.float("MLAUDIT_REPORTS_FRESH_DAYS", default=14.0)
