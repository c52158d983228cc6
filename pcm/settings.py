"""PCM settings, all from environment variables.

Nothing needs to be set on a laptop: SQLite in ./var, django-q2's ORM broker on the same
database, a development secret key and encryption key (both logged as insecure). Production
is `PCM_PRODUCTION=true`, which demands real secrets and turns on every HTTPS protection, so
that `manage.py check --deploy` has nothing to report.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.dateparse import parse_duration

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def envbool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean (use true or false)")


def envint(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not an integer") from None


def envseconds(name: str, default: int) -> int:
    """Seconds, given as a number or as an ISO 8601 duration (PT1H)."""
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    if value.isdigit():
        return int(value)
    parsed = parse_duration(value) if value.upper().startswith("P") else None
    if parsed is None:
        raise ImproperlyConfigured(f"{name}={value!r} is not seconds nor an ISO 8601 duration")
    return int(parsed.total_seconds())


def envlist(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


PRODUCTION = envbool("PCM_PRODUCTION", False)
DEBUG = envbool("DEBUG", False)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DEBUG must be off when PCM_PRODUCTION is on")

INSECURE_SECRET_KEY = "django-insecure-pcm-development-only-never-use-in-production"  # noqa: S105
SECRET_KEY = env("SECRET_KEY") or INSECURE_SECRET_KEY
if PRODUCTION and SECRET_KEY == INSECURE_SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when PCM_PRODUCTION is on")

# Comma-separated Fernet keys, newest first (see clouds/crypto.py). Unset: a development key.
PCM_ENCRYPTION_KEYS = envlist("PCM_ENCRYPTION_KEYS")
if PRODUCTION and not PCM_ENCRYPTION_KEYS:
    raise ImproperlyConfigured("PCM_ENCRYPTION_KEYS must be set when PCM_PRODUCTION is on")

# Address ranges every cloud and Inventory may be reached at, besides each one's own
# outbound_allow: private, loopback, link-local (docs/configuration.md, "Outbound").
PCM_OUTBOUND_ALLOW = envlist("PCM_OUTBOUND_ALLOW")

# libcloud's LIBCLOUD_DEBUG writes every HTTP exchange, credentials included, to a file.
if PRODUCTION and env("LIBCLOUD_DEBUG"):
    raise ImproperlyConfigured("LIBCLOUD_DEBUG must not be set in production: it logs credentials")
# libcloud's own retry re-sends any request after a timeout, a create included: the cloud
# may then launch a second node. PCM retries reads itself and never re-sends a create.
if "LIBCLOUD_RETRY_FAILED_HTTP_REQUESTS" in os.environ:
    raise ImproperlyConfigured(
        "Unset LIBCLOUD_RETRY_FAILED_HTTP_REQUESTS: libcloud would re-send a create after a "
        "timeout and launch a duplicate node; PCM retries reads itself"
    )

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,testserver")
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when PCM_PRODUCTION is on")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")
CSRF_FAILURE_VIEW = "pcm.handlers.csrf_failure"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "drf_spectacular",
    "django_filters",
    "django_q",
    "django_prometheus",
    "pcm",
    "providers",
    "providers.inventory",
    "clouds",
    "instances",
    "webhooks",
]

# django-prometheus's two middlewares come first and last, to time the whole stack.
MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "pcm.health.ProbeMiddleware",  # /healthz, /readyz, /metrics: before hosts and redirects
    "pcm.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "pcm.middleware.ApiPathMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "pcm.urls"
WSGI_APPLICATION = "pcm.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database: SQLite in PCM_DATA_DIR unless DATABASE_URL says otherwise (postgres://...).
DATA_DIR = Path(env("PCM_DATA_DIR") or BASE_DIR / "var")
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{DATA_DIR / 'db.sqlite3'}",
        conn_max_age=envint("PCM_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    # Web and worker processes share the file: WAL, IMMEDIATE transactions and a busy
    # timeout keep them from failing with "database is locked" (RUNTIME.md).
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # Tests use a file too, so that a real qcluster process can share their database.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test-db.sqlite3")}
# Prepared statements on PostgreSQL: PCM's reads join up to eight tables, which PostgreSQL
# took longer to plan than to run (docs/performance.md). With server-side binding psycopg
# prepares a query the PCM_PG_PREPARE_THRESHOLD-th time a connection runs it, and
# PostgreSQL plans it once. 0 turns this off (a PgBouncer older than 1.21 in transaction
# mode cannot keep prepared statements).
PG_PREPARE_THRESHOLD = envint("PCM_PG_PREPARE_THRESHOLD", 2)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and PG_PREPARE_THRESHOLD:
    DATABASES["default"]["OPTIONS"] = {
        "server_side_binding": True,
        "prepare_threshold": PG_PREPARE_THRESHOLD,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
FIXTURE_DIRS = [BASE_DIR / "fixtures"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env("PCM_STATIC_ROOT") or BASE_DIR / "staticfiles")

# Request bodies above this are refused with 413 (Django's own limit covers form posts; the
# API middleware applies it to JSON bodies too).
DATA_UPLOAD_MAX_MEMORY_SIZE = envint("PCM_MAX_BODY_BYTES", 1024 * 1024)

REST_FRAMEWORK = {
    # Tokens first: their WWW-Authenticate header makes an anonymous request a 401, not a 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "pcm.auth.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # A view that sets its own permission_classes must keep TokenScope (read-only tokens).
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "pcm.auth.TokenScope",
    ],
    "DEFAULT_PARSER_CLASSES": ["pcm.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "pcm.renderers.BrowsableAPIRenderer",  # DRF's, with working examples (docs/api.md)
    ],
    "DEFAULT_PAGINATION_CLASS": "pcm.pagination.Pagination",
    "DEFAULT_SCHEMA_CLASS": "pcm.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "pcm.handlers.api_exception_handler",
    "VIEW_DESCRIPTION_FUNCTION": "pcm.views.view_description",
    "DEFAULT_THROTTLE_CLASSES": ["pcm.throttles.UserThrottle", "pcm.throttles.AnonThrottle"],
}

# API tokens (pcm/tokens.py): django-rest-knox keeps a SHA-512 digest of each key, never the
# key. A token expires this many days after it is made unless it is made with another expiry.
PCM_TOKEN_TTL_DAYS = envint("PCM_TOKEN_TTL_DAYS", 90)
if PCM_TOKEN_TTL_DAYS < 1:
    raise ImproperlyConfigured(
        "PCM_TOKEN_TTL_DAYS must be 1 or more (a token that never expires is asked for "
        "one by one: manage.py pcm_token create --expires never)"
    )
KNOX_TOKEN_MODEL = "pcm.ApiToken"  # noqa: S105 (a model, not a secret)
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=PCM_TOKEN_TTL_DAYS),
    "AUTH_HEADER_PREFIX": "Token",  # what clients send since DRF's own tokens
}
# knox's own migrations would create its default token table even though pcm.ApiToken
# replaces it: an empty table nothing uses.
MIGRATION_MODULES = {"knox": None}

# Request rates ("600/min"; empty: no limit). Counted in Django's cache: per process with
# the default local-memory cache, shared with a shared cache (e.g. PCM_CACHE_URL=redis://).
PCM_THROTTLE_USER = env("PCM_THROTTLE_USER", "1200/min")
PCM_THROTTLE_ANON = env("PCM_THROTTLE_ANON", "120/min")
if env("PCM_CACHE_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": env("PCM_CACHE_URL"),
        }
    }

SPECTACULAR_SETTINGS = {
    "TITLE": "PCM API",
    "DESCRIPTION": (
        "One REST API in front of many clouds. `/pcm_api/v2/cloud/{cloud}` and "
        "`/pcm_api/v2/locations/{cloud}/...` are accepted aliases of "
        "`/pcm_api/v2/clouds/{cloud}/...`. Every error is "
        '`{"error": "<status>", "message": "..."}`.'
    ),
    "VERSION": "2",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/pcm_api/v2",
    "COMPONENT_SPLIT_REQUEST": True,
    # The instance's status and the status a PUT or PATCH asks for are two enums.
    "ENUM_NAME_OVERRIDES": {
        "InstanceStatusEnum": "instances.choices.InstanceStatus",
        "ActionStatusEnum": "instances.choices.ACTION_CHOICES",
    },
    "COMPONENT_SPLIT_PATCH": False,  # PATCH's own serializer is explicit (PatchSerializer)
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "pcm.openapi.add_error_responses",
    ],
}

# django-q2 carries every provider call. The ORM broker keeps a task in the same database
# and transaction as the row it acts on (SPEC.md). timeout < retry, or a task still running
# is delivered twice (RUNTIME.md); save_limit=0 avoids a locking prune on every result:
# PCM prunes successful tasks itself, hourly, down to PCM_KEEP_TASKS (instances/tasks.py).
Q_CLUSTER = {
    "name": "pcm",
    "orm": "default",
    "workers": envint("PCM_Q_WORKERS", 4),
    "timeout": envint("PCM_TASK_TIMEOUT", 120),
    "retry": envint("PCM_TASK_RETRY", 180),
    "max_attempts": 3,
    "ack_failures": True,
    "save_limit": 0,
    "poll": 0.5,
    "catch_up": False,
    "log_level": "WARNING",
}
if Q_CLUSTER["timeout"] >= Q_CLUSTER["retry"]:
    raise ImproperlyConfigured("PCM_TASK_TIMEOUT must be below PCM_TASK_RETRY")

# The instance lifecycle (instances/worker/).
PCM_MAX_ATTEMPTS = envint("PCM_MAX_ATTEMPTS", 3)  # creates tried before an instance is error
PCM_BUILD_TIMEOUT = envint("PCM_BUILD_TIMEOUT", 900)  # seconds building before error
PCM_WATCH_SECONDS = envint("PCM_WATCH_SECONDS", 5)  # first look again after an action
PCM_PENDING_DEADLINE = envint("PCM_PENDING_DEADLINE", 120)  # a lost task is re-enqueued after
PCM_LEASE_SECONDS = envint("PCM_LEASE_SECONDS", Q_CLUSTER["timeout"])  # a worker's hold on a row
PCM_DOWN_FOR_SECONDS = envint("PCM_DOWN_FOR_SECONDS", 600)  # a failed check refuses creates for
# The record is the truth (docs/reliability.md). For this long after PCM created or started
# a node, a cloud that is eventually consistent may not show it (AWS documents seconds to
# minutes): not finding it proves nothing, and a create without a client token is not sent
# again before the node has been looked for that long.
PCM_VISIBILITY_GRACE = envint("PCM_VISIBILITY_GRACE", 300)
# How long before a lease ends its instance gets an "expiring" event (instances/expiry.py):
# seconds, or an ISO 8601 duration such as PT1H.
PCM_LEASE_WARNING = envseconds("PCM_LEASE_WARNING", 3600)
# A node absent from two reconcile listings at least this far apart is gone.
PCM_ABSENCE_GAP = envint("PCM_ABSENCE_GAP", 60)
# A second node carrying a live instance's PCM id (a retried create's) is destroyed.
PCM_DESTROY_DUPLICATES = envbool("PCM_DESTROY_DUPLICATES", True)
# Successful django-q2 tasks kept for the admin; older ones are pruned hourly.
PCM_KEEP_TASKS = envint("PCM_KEEP_TASKS", 1000)
# The per-cloud circuit breaker (clouds/breaker.py): open after this many consecutive
# failures to reach a cloud, for this many seconds, then one probe call decides.
PCM_BREAKER_THRESHOLD = envint("PCM_BREAKER_THRESHOLD", 5)
PCM_BREAKER_COOLDOWN = envint("PCM_BREAKER_COOLDOWN", 30)
# For the worker-crash tests only (instances/faults.py): never set it in a deployment.
PCM_FAULT_POINT = env("PCM_FAULT_POINT")

# Observability (docs/observability.md). /metrics: with a token, for `Authorization: Bearer
# <token>` from anywhere; without one, for loopback clients only.
PCM_METRICS_TOKEN = env("PCM_METRICS_TOKEN")
# /readyz fails when no django-q2 worker was seen for this long (0: do not check workers).
PCM_WORKER_SEEN_SECONDS = envint("PCM_WORKER_SEEN_SECONDS", 120)
# Logs: "plain" lines, or "json", one object per line, for a log collector.
PCM_LOG_FORMAT = env("PCM_LOG_FORMAT", "plain")
if PCM_LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(f"PCM_LOG_FORMAT={PCM_LOG_FORMAT!r} is not plain or json")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "pcm.middleware.RequestIdLogFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        # Every record's `extra` fields (cloud, operation, duration_ms, ...) become keys too.
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": PCM_LOG_FORMAT,
        },
    },
    "root": {"handlers": ["console"], "level": env("PCM_LOG_LEVEL", "INFO")},
    "loggers": {
        # The JSON error handler logs unhandled exceptions itself, with the request id.
        "django.request": {"level": "CRITICAL"},
        "django-q": {"level": env("PCM_QUEUE_LOG_LEVEL", "WARNING")},
    },
}

if PRODUCTION:
    SECURE_SSL_REDIRECT = envbool("PCM_SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    SECURE_HSTS_SECONDS = envint("PCM_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    if envbool("PCM_BEHIND_TLS_PROXY", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
