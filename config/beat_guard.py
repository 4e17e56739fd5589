"""Exactly one beat per deployment: two beats would send every periodic task twice (two
schedule checks, two reconcilers). Each beat takes a lock when it starts and keeps it while it
runs; a second one finds it taken and exits with a message saying so.

With Redis the lock is a key (SET NX with a TTL that a thread keeps refreshing), so it works
across machines and frees itself `BEAT_LOCK_TTL_S` after a beat dies. Without Redis (the
filesystem broker, one machine) it is an exclusive `flock` on a file under VAR_DIR, which the
kernel releases when the process dies.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import os
import socket
import sys
import threading
from pathlib import Path
from typing import IO, Any

from django.conf import settings

LOCK_KEY = "rlhf-studio:beat-lock"
# Refresh only while the key is still ours: a beat that was paused past the TTL must not
# extend a lock another beat now holds.
_REFRESH = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('expire', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""

_held: list[Any] = []  # keeps the lock file open (or the refresher alive) for the process


class BeatAlreadyRunning(SystemExit):
    pass


def _identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _refuse(holder: str) -> BeatAlreadyRunning:
    message = (
        f"Another celery beat holds the beat lock ({holder}). Exactly one beat may run per "
        "deployment; this one exits. See docs/operations.md, 'Beat'."
    )
    print(message, file=sys.stderr, flush=True)
    return BeatAlreadyRunning(1)


def acquire_redis_lock(url: str, ttl_s: int) -> None:
    import redis

    client = redis.Redis.from_url(url)
    me = _identity()
    if not client.set(LOCK_KEY, me, nx=True, ex=ttl_s):
        holder = client.get(LOCK_KEY)
        raise _refuse(holder.decode() if isinstance(holder, bytes) else "unknown")
    refresh = client.register_script(_REFRESH)
    stop = threading.Event()

    def keep() -> None:
        while not stop.wait(ttl_s / 3):
            try:
                if not refresh(keys=[LOCK_KEY], args=[me, ttl_s]):
                    print("beat lock lost to another beat; exiting", file=sys.stderr, flush=True)
                    os._exit(1)
            except redis.RedisError as error:  # Redis away: beat cannot send anything either
                print(f"beat lock refresh failed: {error}", file=sys.stderr, flush=True)

    def release() -> None:  # a beat that stops cleanly lets the next one start at once
        stop.set()
        with contextlib.suppress(redis.RedisError):
            client.register_script(_RELEASE)(keys=[LOCK_KEY], args=[me])

    thread = threading.Thread(target=keep, name="beat-lock", daemon=True)
    thread.start()
    atexit.register(release)
    _held.append((thread, stop))


def acquire_file_lock(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle: IO[str] = path.open("a+")
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise _refuse(holder) from None
    handle.seek(0)
    handle.truncate()
    handle.write(_identity())
    handle.flush()
    _held.append(handle)


def acquire_beat_lock(**_: Any) -> None:
    """Connected to `beat_init`: take the lock or end this beat process."""
    if settings.REDIS_URL:
        acquire_redis_lock(settings.REDIS_URL, settings.BEAT_LOCK_TTL_S)
    else:
        acquire_file_lock(Path(settings.VAR_DIR) / "celery" / "beat.lock")
