"""One settings module, driven by environment variables.

Development (DEBUG=true, or a pytest run) gets safe local defaults; production must set SECRET_KEY
and ALLOWED_HOSTS, and `manage.py check --deploy` is clean with HTTPS=true.
"""

import os
import sys
from pathlib import Path

from django.utils.csp import CSP

from config import local_env
from config.database import database_url, django_database

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off"}


def env_bool(name: str, default: bool = False) -> bool:
    """A mistyped value ("ture") stops the process: silently reading it as False could turn off HTTPS."""
    value = env_str(name).lower()
    if not value:
        return default
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    sys.exit(f"{name}={env_str(name)!r} is not a boolean: use true/false (or 1/0, yes/no, on/off).")


def env_int(name: str, default: int) -> int:
    value = env_str(name)
    return int(value) if value else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


# A development checkout's `.env` (written by `make run`), under the environment. The suite reads
# the environment alone: a developer's `.env` must not change what the tests check.
if "PYTEST_VERSION" not in os.environ:
    local_env.load(local_env.path())

DEBUG = env_bool("DEBUG")
TESTING = "PYTEST_VERSION" in os.environ
DEVELOPMENT = DEBUG or TESTING

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEVELOPMENT:
        sys.exit("SECRET_KEY is not set: export SECRET_KEY=<a long random string> (or DEBUG=true).")
    SECRET_KEY = "development-only-key-never-used-in-production-0123456789abcdef"
if not DEVELOPMENT and SECRET_KEY.startswith(local_env.DEVELOPMENT_KEY_PREFIX):
    sys.exit("SECRET_KEY is a development key (from .env): set a real one for production.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEVELOPMENT else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_htmx",
    "django_tasks_db",
    "axes",
    "escalation",
    "workshops",
    "monitoring",
    "config",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "config.middleware.refuse_oversized_bodies",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
    "config.middleware.refuse_nul_characters",
    "config.middleware.read_framework_revisions_once",
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
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
            ],
        },
    },
]

# Forms print their fields through Django's templates' markup built in Python (escalation/forms.py).
FORM_RENDERER = "escalation.forms.FastRenderer"

DATABASES = {"default": django_database(database_url())}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# What is rendered from a frozen version (artifacts, diffs) is cached under the version's hash:
# in PostgreSQL by default (table django_cache, created by every `migrate`, config/apps.py), in
# Redis when REDIS_URL is set. Entries never go stale (a hash names one content); old ones are
# culled past MAX_ENTRIES.
# Each process also keeps recently used entries of escalation.caching in memory, up to this many
# bytes (pickled): they never go stale either.
CONTENT_CACHE_LOCAL_BYTES = env_int("CONTENT_CACHE_LOCAL_BYTES", 64 * 1024 * 1024)
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env_str("REDIS_URL"),
    }
    if env_str("REDIS_URL")
    else {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "django_cache",
        "OPTIONS": {"MAX_ENTRIES": env_int("CACHE_MAX_ENTRIES", 20_000)},
    }
}

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# A pack still rendering after this long is stopped and marked failed (escalation/tasks.py); the
# largest frameworks render in seconds. A pack whose worker died is queued again by the next
# worker once it has run this long plus a minute (and at least 10 minutes).
PACK_TIME_LIMIT_SECONDS = env_int("PACK_TIME_LIMIT_SECONDS", 120)

if TESTING:  # the suite creates many users; hashing cost is not what it tests
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Login throttling: five failures for one username from one address lock it for 15 minutes;
# twenty from one address, whatever the usernames (password spraying), lock that address
# (config/login_throttle.py). Never a username from every address.
# Tests log in with the test client (no request object), so axes is on only where asked for.
AXES_ENABLED = env_bool("AXES_ENABLED", not TESTING)
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_HANDLER = "config.login_throttle.AddressThrottlingHandler"
LOGIN_FAILURES_PER_ADDRESS = 20
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
# The client's address from X-Forwarded-For, as written by this many trusted proxies in front of
# the app (docker compose: 1, the TLS proxy); 0 uses the connection's address (config/client_address.py).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
AXES_CLIENT_IP_CALLABLE = "config.client_address.client_address"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEVELOPMENT
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Email: the console in development; SMTP from EMAIL_* variables in production.
if env_str("EMAIL_HOST") or not DEVELOPMENT:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": env_str("EMAIL_HOST", "localhost"),
                "port": env_int("EMAIL_PORT", 25),
                "username": env_str("EMAIL_HOST_USER"),
                "password": env_str("EMAIL_HOST_PASSWORD"),
                "use_tls": env_bool("EMAIL_USE_TLS"),
                "timeout": 10,
            },
        }
    }
else:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Escalation Workshop <workshop@localhost>")
# Mail is sent by the background worker, never by a page (workshops/notifications.py): a failed
# send is tried again after MAIL_RETRY_SECONDS, doubled each time, MAIL_SEND_ATTEMPTS times in
# all (1, 2, 4, 8 minutes apart by default), then logged as failed.
MAIL_SEND_ATTEMPTS = env_int("MAIL_SEND_ATTEMPTS", 5)
MAIL_RETRY_SECONDS = env_int("MAIL_RETRY_SECONDS", 60)

# Security headers. HTTPS=true (behind a TLS-terminating proxy) turns on secure cookies and HSTS,
# and trusts X-Forwarded-Proto: only the proxy may reach the app's port (docker-compose.yml binds
# it to 127.0.0.1), and the proxy must overwrite that header on every request.
HTTPS = env_bool("HTTPS")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
# Preloading is a promise browsers keep for months (every subdomain HTTPS, hard to take back):
# opt-in with HSTS_PRELOAD=true, and the deploy check's reminder is silenced until then.
SECURE_HSTS_PRELOAD = HTTPS and env_bool("HSTS_PRELOAD")
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

# The pack's digital signature (escalation/signing.py). Without a key and certificate,
# development signs with a self-signed pair generated under .dev-signing/; production refuses.
SIGNING_KEY_FILE = env_str("SIGNING_KEY_FILE")
SIGNING_CERT_FILE = env_str("SIGNING_CERT_FILE")
SIGNING_KEY_PASSWORD = env_str("SIGNING_KEY_PASSWORD")
SIGNING_TIMESTAMP_URL = env_str("SIGNING_TIMESTAMP_URL")
SIGNING_DEVELOPMENT_DIR = BASE_DIR / ".dev-signing"

DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
}
