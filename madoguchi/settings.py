"""Django settings for Madoguchi, read from the environment.

Every value comes through a small typed helper that fails loudly on a bad value, so a
typo in production configuration stops the process instead of changing behaviour.
"""

import datetime as dt
import os
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {value!r}")


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_choice(name: str, choices: tuple[str, ...], default: str) -> str:
    value = os.environ.get(name, default).strip()
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


DEBUG = env_bool("DEBUG")
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY is required unless DEBUG is on")
    SECRET_KEY = "insecure-debug-only-key"  # noqa: S105 - only ever used with DEBUG on

DATA_DIR = Path(os.environ.get("MADOGUCHI_DATA_DIR", Path.cwd() / "var")).resolve()

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "django_htmx",
    "madoguchi.records",
    "madoguchi.offices",
    "madoguchi.seekers",
    "madoguchi.terms",
    "madoguchi.bookings",
    "madoguchi.meetings",
    "madoguchi.notifications",
    "madoguchi.worker",
    "madoguchi.web",
    "madoguchi.accounts",
    "madoguchi.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "madoguchi.accounts.middleware.SignOutEverywhereMiddleware",
    "madoguchi.accounts.middleware.IdleTimeoutMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "madoguchi.web.middleware.AuditContextMiddleware",
    "madoguchi.web.middleware.UsageRecordMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into its answer.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    # First: refuses sign-in attempts for a locked-out user and address.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Lock-out after repeated failures (django-axes): 5 failures per username and address,
# for 15 minutes; a success resets the count.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = dt.timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
LOGIN_URL = "/staff/login/"
PASSWORD_RESET_TIMEOUT = 60 * 60  # a reset link works for an hour
LOGIN_REDIRECT_URL = "/staff/"
# Staff pages sign out after this long without a request.
MADOGUCHI_IDLE_MINUTES = int(os.environ.get("MADOGUCHI_IDLE_MINUTES", "30"))
OTP_TOTP_ISSUER = "Madoguchi"
AXES_CLIENT_IP_CALLABLE = "madoguchi.api.auth.axes_client_ip"

ROOT_URLCONF = "madoguchi.urls"
WSGI_APPLICATION = "madoguchi.wsgi.application"

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
                "django.template.context_processors.csp",
            ],
        },
    },
]


def database_config() -> dict[str, Any]:
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'madoguchi.sqlite3'}"
    config: dict[str, Any] = dict(
        dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    )
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # Immediate transactions take the write lock at BEGIN, so two bookings never
        # both read "free" and then fight over the lock; the timeout makes a waiting
        # writer queue instead of failing with "database is locked". Our backend lines
        # the waiting writers up on a file lock (madoguchi/db/sqlite3/base.py).
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        config["ENGINE"] = "madoguchi.db.sqlite3"
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
        config["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}
    return config


DATABASES = {"default": database_config()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Background work (`madoguchi worker`): Django's task framework, kept in the database by
# default and in Redis when REDIS_URL is set. Either way the database stays the source of
# truth: the worker's clock finds due work there again after any restart.
if REDIS_URL:
    INSTALLED_APPS.append("django_tasks_redis")
    TASKS = {
        "default": {
            "BACKEND": "django_tasks_redis.RedisTaskBackend",
            "QUEUES": [],
            "OPTIONS": {"REDIS_URL": REDIS_URL, "REDIS_KEY_PREFIX": "madoguchi:tasks"},
        }
    }
else:
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": []}}
INSTALLED_APPS.append("django_tasks_db")
# Seconds between two rounds of the worker's clock (no-shows, reminders, retries).
MADOGUCHI_WORKER_INTERVAL = float(os.environ.get("MADOGUCHI_WORKER_INTERVAL", "5"))
# Seconds a worker holds a job it took; after that a dead worker's job is due again.
MADOGUCHI_WORKER_LEASE = float(os.environ.get("MADOGUCHI_WORKER_LEASE", "300"))

LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", _("Japanese")), ("en", _("English"))]
# やさしい日本語 (plain Japanese) for the seeker's pages: "ja" with the private-use
# subtag "x-easy", valid BCP 47 for <html lang>; its catalogue is locale/ja_X-easy, and a
# string it does not translate falls back to Japanese (LANGUAGE_CODE).
LANGUAGES += [("ja-x-easy", _("Plain Japanese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise serves from here after collectstatic
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = not DEBUG and env_bool("MADOGUCHI_SECURE_COOKIES", True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_AGE = 60 * 60 * 8
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Behind our own TLS proxy: trust its X-Forwarded-Proto and X-Forwarded-For.
MADOGUCHI_BEHIND_PROXY = env_bool("MADOGUCHI_BEHIND_PROXY")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if MADOGUCHI_BEHIND_PROXY else None
SECURE_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
    "base-uri": ["'none'"],
}

MADOGUCHI_MEETING_PROVIDER = env_choice(
    "MADOGUCHI_MEETING_PROVIDER", ("zoom", "fake", "manual"), "fake"
)
ZOOM_ACCOUNT_ID = os.environ.get("ZOOM_ACCOUNT_ID", "")
ZOOM_CLIENT_ID = os.environ.get("ZOOM_CLIENT_ID", "")
ZOOM_CLIENT_SECRET = os.environ.get("ZOOM_CLIENT_SECRET", "")
ZOOM_WEBHOOK_SECRET = os.environ.get("ZOOM_WEBHOOK_SECRET", "")
ZOOM_DEFAULT_USER = os.environ.get("ZOOM_DEFAULT_USER", "")
ZOOM_API_BASE_URL = os.environ.get("ZOOM_API_BASE_URL", "https://api.zoom.us/v2")
ZOOM_OAUTH_URL = os.environ.get("ZOOM_OAUTH_URL", "https://zoom.us/oauth/token")

# Public endpoints: requests allowed per client address per minute.
MADOGUCHI_PUBLIC_RATE_PER_MINUTE = int(os.environ.get("MADOGUCHI_PUBLIC_RATE_PER_MINUTE", "60"))


def mailer_config() -> dict:
    """EMAIL_URL (smtp://, submission:// for STARTTLS, smtps://) or a local mail folder."""
    url = os.environ.get("EMAIL_URL", "")
    if not url:
        return {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": str(DATA_DIR / "mail")},
        }
    import urllib.parse

    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in {"smtp", "submission", "smtps"}:
        raise ImproperlyConfigured("EMAIL_URL must start with smtp://, submission:// or smtps://")
    return {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {
            "host": parts.hostname or "localhost",
            "port": parts.port or {"smtp": 25, "submission": 587, "smtps": 465}[parts.scheme],
            "username": urllib.parse.unquote(parts.username or ""),
            "password": urllib.parse.unquote(parts.password or ""),
            "use_tls": parts.scheme == "submission",
            "use_ssl": parts.scheme == "smtps",
            "timeout": 20,
        },
    }


MAILERS = {"default": mailer_config()}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "madoguchi@localhost")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # One line per task and per empty queue is noise; our worker logs its rounds.
        "django_tasks_db": {"level": "WARNING"},
        "django.tasks": {"level": "WARNING"},
        # httpx logs each URL at INFO; Zoom URLs name users (e-mail addresses).
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}

# The address people use to reach this deployment; links in mail and meetings use it.
MADOGUCHI_BASE_URL = os.environ.get("MADOGUCHI_BASE_URL", "http://127.0.0.1:8000")

# Logs are JSON lines, and every handler scrubs secrets and personal data (R21,
# madoguchi.records.logs); the development server's request lines go through it too.
_logging: dict[str, Any] = LOGGING
_logging["filters"] = {"scrub": {"()": "madoguchi.records.logs.ScrubFilter"}}
_logging["formatters"]["json"] = {"()": "madoguchi.records.logs.JsonFormatter"}
_logging["handlers"]["console"].update({"formatter": "json", "filters": ["scrub"]})
_logging["loggers"]["django.server"] = {
    "handlers": ["console"],
    "level": "INFO",
    "propagate": False,
}
