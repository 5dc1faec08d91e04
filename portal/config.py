"""Settings read from the environment (the contract in DESIGN.md)."""

import os
from datetime import timedelta
from pathlib import Path

INSTANCE_DIR = Path(__file__).resolve().parent.parent / "instance"


class ConfigError(SystemExit):
    """A setting is missing or wrong. A SystemExit, so that the operator sees its
    one-line message and exit status 1, not a stack trace."""


def _flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {value!r}") from None


def database_url(url: str) -> str:
    """Let operators write postgresql:// and still get the psycopg 3 driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def from_environment() -> dict:
    """Build the configuration mapping from environment variables."""
    environment = os.environ.get("PORTAL_ENV", "production").strip().lower()
    default_db = f"sqlite:///{INSTANCE_DIR / 'portal.sqlite3'}"
    return {
        "PORTAL_ENV": environment,
        "SECRET_KEY": os.environ.get("SECRET_KEY"),
        # Former keys, newest first, while sessions and sealed secrets move to the new one.
        "SECRET_KEY_FALLBACKS": [
            key.strip()
            for key in os.environ.get("SECRET_KEY_FALLBACKS", "").split(",")
            if key.strip()
        ],
        "PORTAL_BASE_URL": os.environ.get("PORTAL_BASE_URL", "http://localhost:5000"),
        "SQLALCHEMY_DATABASE_URI": database_url(os.environ.get("DATABASE_URL", default_db)),
        "MAIL_BACKEND": os.environ.get("MAIL_BACKEND", "file"),
        "MAIL_FILE_PATH": os.environ.get("MAIL_FILE_PATH", str(INSTANCE_DIR / "mail")),
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", "localhost"),
        "MAIL_PORT": _int("MAIL_PORT", 25),
        "MAIL_USE_TLS": _flag("MAIL_USE_TLS"),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME"),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD"),
        "MAIL_DEFAULT_SENDER": os.environ.get("MAIL_DEFAULT_SENDER", "portal@localhost"),
        # None when unset: finalize() allows the per-process memory:// outside production only.
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI") or None,
        # While Redis is unreachable each worker counts in memory: sign-in stays up, and
        # limited, instead of failing with the storage.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "TRUSTED_PROXY_HOPS": _int("TRUSTED_PROXY_HOPS", 0),
        "SESSION_IDLE_TIMEOUT": timedelta(minutes=_int("SESSION_IDLE_MINUTES", 30)),
        # A sensitive action asks for the password again after this long (ASVS 7.5).
        "REAUTH_AFTER": timedelta(minutes=_int("PORTAL_REAUTH_MINUTES", 10)),
        "SESSION_ABSOLUTE_TIMEOUT": timedelta(hours=_int("SESSION_ABSOLUTE_HOURS", 12)),
        "CHANGE_NOTICE_QUIET": timedelta(minutes=_int("CHANGE_NOTICE_MINUTES", 10)),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        # Uploaded files (the tenants' logos); None: the instance folder's uploads/.
        "UPLOADS_DIR": os.environ.get("UPLOADS_DIR") or None,
        "BABEL_DEFAULT_LOCALE": "en",
        "LANGUAGES": ["en", "fr", "fr_CA"],
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    }


def finalize(config) -> None:
    """Derive the settings that follow from others; refuse to start with unsafe ones."""
    config["PORTAL_BASE_URL"] = config["PORTAL_BASE_URL"].rstrip("/")
    secure = config["PORTAL_BASE_URL"].startswith("https://")
    config["SESSION_COOKIE_SECURE"] = secure
    config["PREFERRED_URL_SCHEME"] = "https" if secure else "http"
    config["HSTS"] = secure
    local = config.get("PORTAL_ENV") in {"development", "testing"} or config.get("TESTING")
    if not config.get("SECRET_KEY"):
        if local:
            config["SECRET_KEY"] = "insecure-development-key"  # noqa: S105 - never used outside dev
        else:
            raise ConfigError(
                "SECRET_KEY is not set: export SECRET_KEY to a long random value "
                "(or PORTAL_ENV=development for a local demo)."
            )
    if not config.get("RATELIMIT_STORAGE_URI"):
        if local:
            config["RATELIMIT_STORAGE_URI"] = "memory://"  # one process: its memory is enough
        else:
            raise ConfigError(
                "RATELIMIT_STORAGE_URI is not set: export it to a Redis URL such as "
                "redis://127.0.0.1:6379, so that every worker counts the same sign-in attempts "
                "(or PORTAL_ENV=development for a local demo)."
            )
