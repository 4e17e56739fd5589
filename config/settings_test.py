"""Settings for the test suite: the real settings, plus a throwaway key and a fast hasher."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-not-for-deployment-0123456789")

from config.settings import *  # noqa: F403

# Hashing every factory user's password with PBKDF2 costs seconds per test file.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
