"""Settings for the test suite: the real settings, plus a throwaway key and a fast hasher."""

import os
import tempfile

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-not-for-deployment-0123456789")
# Without Redis the cache is files; one folder per test run (inherited by the processes a
# test starts), so a run's cache.clear() never empties another run's or the dev server's.
os.environ.setdefault(
    "RLHF_CACHE_DIR", os.path.join(tempfile.gettempdir(), f"rlhf-test-cache-{os.getpid()}")
)

from config.settings import *  # noqa: F403

# Hashing every factory user's password with PBKDF2 costs seconds per test file.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
