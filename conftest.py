"""Root conftest: test-only settings defaults, applied before Django is configured."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-not-for-deployment-0123456789")
