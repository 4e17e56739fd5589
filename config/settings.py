"""Settings driven by environment variables, with secure defaults.

Without DATABASE_URL / REDIS_URL the app runs on embedded defaults (a SQLite file and a
filesystem Celery broker under var/), so the first command works on a bare machine.
Nothing here has side effects: no folder is created, no connection is opened.
"""

import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("RLHF_VAR_DIR", BASE_DIR / "var"))


def env_flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def secret_key_file() -> str:
    """The key `make run` keeps in var/secret_key, so `manage.py` works after it with nothing
    exported; a deployment sets DJANGO_SECRET_KEY instead."""
    try:
        return (VAR_DIR / "secret_key").read_text().strip()
    except OSError:
        return ""


DEBUG = env_flag("DJANGO_DEBUG")
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "") or secret_key_file()
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set unless DJANGO_DEBUG=1 "
            f"(or run `make run` once, which keeps one in {VAR_DIR / 'secret_key'})."
        )
    SECRET_KEY = "insecure-debug-only-key"  # noqa: S105 - only reachable with DEBUG on

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "annotation",
    "training",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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


def database_config() -> dict[str, object]:
    url = os.environ.get("DATABASE_URL")
    if not url:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "rlhf-studio.sqlite3",
            # IMMEDIATE takes the write lock at BEGIN, so concurrent claims queue instead of
            # failing with "database is locked" halfway through a transaction.
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 30},
        }
    config: dict[str, object] = dict(dj_database_url.parse(url))
    config["CONN_MAX_AGE"] = int(os.environ.get("DATABASE_CONN_MAX_AGE", "60"))
    config["CONN_HEALTH_CHECKS"] = True
    return config


DATABASES = {"default": database_config()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# The browser app (frontend/, built by `make frontend`): Vite writes index.html and hashed
# assets to frontend/dist with base /static/; whitenoise serves the assets, config.spa the page.
FRONTEND_DIST = Path(os.environ.get("RLHF_FRONTEND_DIST", BASE_DIR / "frontend" / "dist"))
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [path for path in [FRONTEND_DIST] if path.is_dir()]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}


def vite_asset_is_immutable(path: str, url: str) -> bool:
    """Vite names every built asset by its content hash: browsers may cache it for good."""
    return url.startswith(f"{STATIC_URL}assets/")


WHITENOISE_IMMUTABLE_FILE_TEST = vite_asset_is_immutable

LOGIN_URL = "/login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

SESSION_COOKIE_HTTPONLY = True
# A CSRF failure answers the API's JSON error under /api/ (Django's own page is HTML).
CSRF_FAILURE_VIEW = "config.views.csrf_failure"
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"

# HTTPS (docs/deploy.md lists the production values). Off by default so `make run` works over
# plain http on localhost; with the documented environment `manage.py check --deploy` is clean.
SESSION_COOKIE_SECURE = env_flag("DJANGO_SECURE_COOKIES")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# The front end reads the csrftoken cookie to echo it in X-CSRFToken, so it cannot be HttpOnly;
# the token is not a credential on its own (it only pairs with the HttpOnly session cookie).
CSRF_COOKIE_HTTPONLY = False
SECURE_SSL_REDIRECT = env_flag("RLHF_SSL_REDIRECT")
# Paths (regexes, no leading slash) still served over plain http, e.g. a load balancer's probe.
# The healthcheck (/healthz/) is always among them: it is asked over http from inside the host.
SECURE_REDIRECT_EXEMPT = [r"^healthz/$", *env_list("RLHF_SSL_REDIRECT_EXEMPT", "")]
SECURE_HSTS_SECONDS = int(os.environ.get("RLHF_HSTS_SECONDS", "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_flag("RLHF_HSTS_INCLUDE_SUBDOMAINS")
SECURE_HSTS_PRELOAD = env_flag("RLHF_HSTS_PRELOAD")
# A deployment that sets an HSTS option to 0 on purpose has decided; the check need not ask.
SILENCED_SYSTEM_CHECKS = [
    check
    for name, check in [
        ("RLHF_HSTS_INCLUDE_SUBDOMAINS", "security.W005"),
        ("RLHF_HSTS_PRELOAD", "security.W021"),
    ]
    if os.environ.get(name, "").strip().lower() in {"0", "false", "no", "off"}
]
# Behind a TLS-terminating proxy the app sees http; trust the proxy's X-Forwarded-Proto (and
# X-Forwarded-Host) only when told that such a proxy, which overwrites them, is in front.
if env_flag("RLHF_BEHIND_TLS_PROXY"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
USE_X_FORWARDED_HOST = env_flag("RLHF_USE_X_FORWARDED_HOST")

# The Django admin (/admin/) is off unless asked for: it is a second way into the data beside
# the API's rules. When on, it is read-only and open only to active users whose role is admin.
DJANGO_ADMIN_ENABLED = env_flag("RLHF_DJANGO_ADMIN")

# API tokens (`Authorization: Token <key>`) end after this many days unless revoked first.
API_TOKEN_LIFETIME_DAYS = int(os.environ.get("RLHF_API_TOKEN_LIFETIME_DAYS", "30"))

# How many reverse proxies in front of the app append to X-Forwarded-For. 0: the header is
# ignored (anyone can write it) and the client is REMOTE_ADDR; n: the n-th entry from the right.
TRUSTED_PROXY_COUNT = int(os.environ.get("RLHF_TRUSTED_PROXIES", "0"))
# Sign-in (login and token) calls allowed per client address, counted in the shared cache.
SIGN_IN_RATE = os.environ.get("RLHF_SIGN_IN_RATE", "30/min")
# Per-address limits count an IPv6 client by its network of this prefix (a home or a server
# gets a whole /64), and an IPv4-mapped IPv6 address as the IPv4 address.
THROTTLE_IPV6_PREFIX = int(os.environ.get("RLHF_THROTTLE_IPV6_PREFIX", "64"))
# Per-account lockout: this many failed sign-ins for one username within the window lock it,
# from any address, for the cool-down.
LOGIN_LOCKOUT_FAILURES = int(os.environ.get("RLHF_LOGIN_LOCKOUT_FAILURES", "10"))
LOGIN_LOCKOUT_WINDOW_S = int(os.environ.get("RLHF_LOGIN_LOCKOUT_WINDOW_S", "900"))
LOGIN_LOCKOUT_COOLDOWN_S = int(os.environ.get("RLHF_LOGIN_LOCKOUT_COOLDOWN_S", "900"))

# Uploads: imports are read in memory up to this size and refused above it.
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
IMPORT_MAX_BYTES = int(os.environ.get("RLHF_IMPORT_MAX_BYTES", str(50 * 1024 * 1024)))

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: its WWW-Authenticate header makes anonymous calls a 401, not a 403.
        "annotation.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # `?format=` is the export's own parameter, not a renderer switch.
    "URL_FORMAT_OVERRIDE": None,
    # DRF's own default is AllowAny; every endpoint here needs a login unless it says otherwise.
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # common.exception_handler's JSON errors, recording permission denials in the audit log.
    "EXCEPTION_HANDLER": "annotation.api.denials.audited_exception_handler",
    # limit capped at 500, a bad offset a 400 (common.pagination), never a database error.
    "DEFAULT_PAGINATION_CLASS": "common.pagination.BoundedLimitOffsetPagination",
    "PAGE_SIZE": 50,
    # JSON nested past 64 levels, NaN, lone surrogates and NUL are a 400 (common.parsers).
    "DEFAULT_PARSER_CLASSES": [
        "common.parsers.StrictJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": (
        ["common.renderers.SafeJSONRenderer", "rest_framework.renderers.BrowsableAPIRenderer"]
        if DEBUG
        else ["common.renderers.SafeJSONRenderer"]
    ),
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # DRF's default (None) takes X-Forwarded-For from anyone; trust only our own proxies.
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "RLHF Studio API",
    "DESCRIPTION": "Human preference collection, agreement tracking and training rounds.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # Every operation also documents the errors any request can get (common.schema).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "common.schema.document_error_responses",
    ],
}

# Training: each run writes under <TRAINING_ARTIFACTS_DIR>/runs/<run id>/ (a shared filesystem
# when workers run on several machines).
TRAINING_ARTIFACTS_DIR = Path(os.environ.get("RLHF_ARTIFACTS_DIR", VAR_DIR / "artifacts"))
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"] = {
    # Named choice sets, so the generated TypeScript types read RunStatusEnum, not Status398Enum.
    "RunKindEnum": "training.models.RunKind",
    "RunStatusEnum": "training.models.RunStatus",
    "VersionKindEnum": "training.models.VersionKind",
    "DatasetModeEnum": "training.models.DatasetMode",
    "PolicyKindEnum": [("ppo", "PPO"), ("grpo", "GRPO"), ("rloo", "RLOO"), ("dpo", "DPO")],
    # Two "flags" fields: named here, or spectacular prefixes both with their serializer's name.
    "FlagsEnum": "annotation.models.FLAG_CHOICES",
    "QualityFlagEnum": "annotation.quality.report.figures.RATER_FLAGS",
    # The reward-hacking watch's warning codes: on a warning and in a round's list of codes.
    "WatchWarningCodeEnum": "training.pipeline.watch.WARNING_CODES",
}

# Celery: Redis when REDIS_URL is set, otherwise a filesystem broker under var/.
REDIS_URL = os.environ.get("REDIS_URL", "")
CELERY_LONGEST_TASK_S = int(os.environ.get("CELERY_LONGEST_TASK_S", str(12 * 3600)))
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
        # Above the longest task, or Redis redelivers a running task to a second worker.
        "visibility_timeout": CELERY_LONGEST_TASK_S + 3600,
    }
else:
    CELERY_BROKER_URL = "filesystem://"
    # kombu's filesystem transport, with each message written whole (config/broker_files.py).
    CELERY_BROKER_TRANSPORT = "config.broker_files:Transport"
    _queue_dir = str(VAR_DIR / "celery" / "queue")
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": _queue_dir,
        "data_folder_out": _queue_dir,
        "processed_folder": str(VAR_DIR / "celery" / "processed"),
        "store_processed": False,
        # Exchange tables; kombu's default is ./control, in whatever folder a process started.
        "control_folder": str(VAR_DIR / "celery" / "control"),
    }
CELERY_BEAT_SCHEDULE_FILE = str(VAR_DIR / "celery" / "beat-schedule")


def cache_redis_url(broker_url: str) -> str:
    """The broker's server on the next database number (the one before for 15): the cache is
    cleared as a whole (tests do), which must never flush queued tasks."""
    parsed = urlsplit(broker_url)
    number = int(parsed.path.strip("/") or "0")
    return urlunsplit(parsed._replace(path=f"/{number + 1 if number < 15 else number - 1}"))


def cache_config() -> dict[str, object]:
    """One cache shared by every process: sign-in throttles and lockouts count there."""
    url = os.environ.get("RLHF_CACHE_URL") or (cache_redis_url(REDIS_URL) if REDIS_URL else "")
    if url:
        return {
            "BACKEND": "common.cache.OutageTolerantRedisCache",
            "LOCATION": url,
            # A Redis outage costs each request a second at most, not a hang.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    # Without Redis, files shared by the processes of this machine; Django makes the folder
    # when the cache is first used, not here.
    location = os.environ.get("RLHF_CACHE_DIR", str(VAR_DIR / "cache"))
    return {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": location,
        # Django's default (300 files, then a third dropped at random) would let a guesser
        # rotating addresses push locks and counters out of the cache.
        "OPTIONS": {"MAX_ENTRIES": 100_000},
    }


CACHES = {"default": cache_config()}

# Training workers: a running run whose heartbeat is older than this is presumed lost (its
# worker died) and the reconciler re-queues it; the pipeline runs under this interpreter.
TRAINING_HEARTBEAT_STALE_S = int(os.environ.get("TRAINING_HEARTBEAT_STALE_S", "300"))
TRAINING_PIPELINE_PYTHON = os.environ.get("TRAINING_PIPELINE_PYTHON", "")
# Processes per reward, DPO or PPO run on this worker's machine (torchrun; one per GPU there).
TRAINING_PROCESSES = max(1, int(os.environ.get("TRAINING_PROCESSES", "1")))
# The strategies a run on this worker may ask for (the first is what the worker would pick):
# ddp, deepspeed-zero2, deepspeed-zero3 (training/pipeline/strategies.py; docs/operations.md,
# "Strategies").
TRAINING_STRATEGY = [
    name.strip() for name in os.environ.get("TRAINING_STRATEGY", "ddp").split(",") if name.strip()
]
if not TRAINING_STRATEGY or set(TRAINING_STRATEGY) - {"ddp", "deepspeed-zero2", "deepspeed-zero3"}:
    raise ImproperlyConfigured(
        "TRAINING_STRATEGY must list some of ddp, deepspeed-zero2, deepspeed-zero3, not "
        f"{TRAINING_STRATEGY!r}"
    )
# Where a training worker runs its stages: "local" (child processes on its own machine) or
# "ray" (a Ray job on the cluster whose dashboard is RAY_ADDRESS; docs/operations.md).
TRAINING_BACKEND = os.environ.get("TRAINING_BACKEND", "local")
if TRAINING_BACKEND not in ("local", "ray"):
    raise ImproperlyConfigured(f"TRAINING_BACKEND must be local or ray, not {TRAINING_BACKEND!r}")
RAY_ADDRESS = os.environ.get("RAY_ADDRESS", "")
RAY_AUTH_TOKEN = os.environ.get("RAY_AUTH_TOKEN", "")
# Under Ray: the nodes one reward, DPO or PPO stage spans (TRAINING_PROCESSES on each), and
# what each node's share asks the cluster for.
RAY_TRAINING_NODES = max(1, int(os.environ.get("RAY_TRAINING_NODES", "1")))
RAY_NODE_CPUS = float(os.environ.get("RAY_NODE_CPUS", "1"))
RAY_NODE_GPUS = float(os.environ.get("RAY_NODE_GPUS", "0"))
# How long a job waits for the cluster to have room for its nodes before it fails.
RAY_PLACEMENT_WAIT_S = float(os.environ.get("RAY_PLACEMENT_WAIT_S", "600"))
# How long a worker keeps following a job while the cluster does not answer.
RAY_UNREACHABLE_GRACE_S = float(os.environ.get("RAY_UNREACHABLE_GRACE_S", "120"))
# How often a worker reads the pipeline's progress and beats the heartbeat.
TRAINING_POLL_S = float(os.environ.get("TRAINING_POLL_S", "1"))
# Exactly one beat: it holds this lock (Redis key, or a file lock without Redis) while it runs.
BEAT_LOCK_TTL_S = int(os.environ.get("BEAT_LOCK_TTL_S", "60"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.request": {"level": "ERROR"}},
}

SPECTACULAR_SETTINGS.update(
    {
        # Swagger UI's files come from the sidecar package: the app needs no CDN.
        "SWAGGER_UI_DIST": "SIDECAR",
        "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
        "REDOC_DIST": "SIDECAR",
    }
)
