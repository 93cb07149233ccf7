"""A small disk cache of downloaded documents (CRLs) and of the servers' recent refusals.

Kept in the user's cache folder (``user_cache_dir``: ``$XDG_CACHE_HOME`` or
``~/.cache`` on Linux, ``~/Library/Caches`` on macOS, ``%LOCALAPPDATA%`` on
Windows), under ``cpsdiag/revocation``. A document is kept until the date its
caller gives (a CRL's nextUpdate); a failure (403, 429, a network error) is
remembered for a while so that repeated runs do not hammer a server that
already said no. The cache is a courtesy: a folder that cannot be written
only means no caching, never a failed check.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

# How long a failure is remembered: the server refused us, or could not be reached.
REFUSED_FOR = timedelta(hours=1)         # 403, 429 without Retry-After
RETRY_AFTER_MAX = timedelta(hours=24)
UNREACHABLE_FOR = timedelta(minutes=5)   # timeout, refused connection, no route, no DNS answer


def user_cache_dir(environ: dict[str, str] | None = None, platform: str | None = None) -> Path:
    """cpsdiag's cache folder, where each platform keeps per-user caches."""
    env = os.environ if environ is None else environ
    platform = platform or sys.platform
    if platform == "win32":
        base = env.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "cpsdiag" / "Cache"
    if platform == "darwin":
        return Path.home() / "Library" / "Caches" / "cpsdiag"
    return Path(env.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "cpsdiag"


def _key(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:40]


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat()


def _parse(text: object) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class Cached:
    url: str
    body: bytes
    fetched_at: datetime
    keep_until: datetime


@dataclass(frozen=True)
class Remembered:
    url: str
    reason: str          # "http_403", "http_429", "timeout", "dns", ...
    message: str
    at: datetime
    until: datetime


class DocumentCache:
    """Documents by URL, and remembered failures; ``folder`` None disables the disk (nothing read or kept)."""

    def __init__(self, folder: Path | None):
        self.folder = folder

    # -- documents -----------------------------------------------------------------------------------------
    def get(self, url: str, now: datetime) -> Cached | None:
        if self.folder is None:
            return None
        try:
            meta = json.loads((self.folder / f"{_key(url)}.json").read_text())
            body = (self.folder / f"{_key(url)}.bin").read_bytes()
        except (OSError, ValueError):
            return None
        fetched, until = _parse(meta.get("fetched_at")), _parse(meta.get("keep_until"))
        if meta.get("url") != url or fetched is None or until is None or until <= now \
                or hashlib.sha256(body).hexdigest() != meta.get("sha256"):
            return None
        return Cached(url, body, fetched, until)

    def put(self, url: str, body: bytes, now: datetime, keep_until: datetime) -> None:
        if self.folder is None or keep_until <= now:
            return
        meta = {"url": url, "fetched_at": _iso(now), "keep_until": _iso(keep_until),
                "sha256": hashlib.sha256(body).hexdigest()}
        self._write(f"{_key(url)}.bin", body)
        self._write(f"{_key(url)}.json", json.dumps(meta).encode())

    # -- failures ------------------------------------------------------------------------------------------
    def _failures(self) -> dict[str, dict[str, str]]:
        if self.folder is None:
            return {}
        try:
            data = json.loads((self.folder / "failures.json").read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def remembered(self, url: str, now: datetime) -> Remembered | None:
        entry = self._failures().get(url)
        if not isinstance(entry, dict):
            return None
        at, until = _parse(entry.get("at")), _parse(entry.get("until"))
        if at is None or until is None or until <= now or at > now + timedelta(minutes=5):
            return None
        return Remembered(url, str(entry.get("reason", "")), str(entry.get("message", "")), at, until)

    def remember(self, url: str, reason: str, message: str, now: datetime, duration: timedelta) -> None:
        if self.folder is None:
            return
        failures = {u: e for u, e in self._failures().items()
                    if isinstance(e, dict) and (_parse(e.get("until")) or now) > now}
        failures[url] = {"reason": reason, "message": message, "at": _iso(now), "until": _iso(now + duration)}
        self._write("failures.json", json.dumps(failures, indent=1).encode())

    def forget(self, url: str) -> None:
        failures = self._failures()
        if url in failures:
            del failures[url]
            self._write("failures.json", json.dumps(failures, indent=1).encode())

    def _write(self, name: str, data: bytes) -> None:
        assert self.folder is not None
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-")
        except OSError:
            return      # no cache is not an error
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, self.folder / name)      # readers never see half a file
        except OSError:
            pass
        finally:
            # A full disk, or a stop signal while writing: no half-written file left in the user's cache.
            if os.path.exists(tmp):
                os.unlink(tmp)
