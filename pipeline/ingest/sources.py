"""Resolve the SOURCE arguments of a command into the data files they stand for.

A source is a file, a folder (walked recursively), a .zip holding such files, or an http(s) URL to any
of these. Hostile input is refused before it costs anything: zip members that climb out of the archive,
archives that expand far beyond their size, downloads that are too big, cut off, HTML instead of data,
or redirected to a non-http scheme.
"""

from __future__ import annotations

import io
import logging
import os
import tempfile
import time
import zipfile
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlparse

log = logging.getLogger(__name__)

TABLE_SUFFIXES = {".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".json", ".jsonl", ".ndjson", ".parquet", ".db", ".sqlite", ".sqlite3"}
# One posting per file: a saved detail page (74cms boards save them as .php).
PAGE_SUFFIXES = {".html", ".htm", ".php"}
# Read by no reader here, but walked so that the summary says so instead of skipping them silently.
REFUSED_SUFFIXES = {".xls", ".xlsb", ".ods", ".numbers"}
DATA_SUFFIXES = TABLE_SUFFIXES | PAGE_SUFFIXES | REFUSED_SUFFIXES
MAX_DOWNLOAD_BYTES = 2 * 1024**3
MAX_ZIP_EXPANDED_BYTES = 2 * 1024**3
MAX_ZIP_RATIO = 200  # real exports compress 2-10x; a bomb compresses 1000x
# Seconds to connect, read, write and wait for a pooled connection. httpx is imported only when a URL is
# read: its import costs a tenth of a second on every run of the CLI.
HTTP_TIMEOUT = (10.0, 60.0, 30.0, 10.0)
HTTP_RETRIES = 3
HTTP_BACKOFF_SECONDS = 0.5


class SourceError(Exception):
    """A source cannot be read; the message names it and says why."""


@dataclass(frozen=True)
class RawFile:
    """One data file: `name` is what messages and the raw_file column show."""

    name: str
    suffix: str
    path: Path | None = None
    data: bytes | None = None

    def open(self) -> io.BufferedIOBase:
        if self.data is not None:
            return io.BytesIO(self.data)
        return open(self.path, "rb")  # noqa: SIM115 - caller closes

    def size(self) -> int:
        return len(self.data) if self.data is not None else self.path.stat().st_size


def _is_url(source: str) -> bool:
    return urlparse(source).scheme.lower() in {"http", "https"}


def download(url: str, dest_dir: Path, max_bytes: int | None = None) -> Path:
    """Stream `url` into dest_dir, retrying 5xx and connection errors with exponential backoff."""
    import httpx

    max_bytes = max_bytes or MAX_DOWNLOAD_BYTES
    name = PurePosixPath(urlparse(url).path).name or "download"
    target = dest_dir / name
    last_error: Exception | None = None
    for attempt in range(HTTP_RETRIES + 1):
        if attempt:
            time.sleep(HTTP_BACKOFF_SECONDS * 2 ** (attempt - 1))
        try:
            _download_once(url, target, max_bytes)
            return target
        except httpx.UnsupportedProtocol as exc:
            raise SourceError(f"{url}: redirected to a non-http(s) address ({exc})") from exc
        except (httpx.TransportError, _ServerError) as exc:
            last_error = exc
            log.warning("%s: attempt %d failed: %s", url, attempt + 1, exc)
    raise SourceError(f"{url}: download failed after {HTTP_RETRIES + 1} attempts: {last_error}")


class _ServerError(Exception):
    pass


def _download_once(url: str, target: Path, max_bytes: int) -> None:
    import httpx

    with httpx.Client(timeout=HTTP_TIMEOUT, follow_redirects=True, max_redirects=5) as client:
        with client.stream("GET", url) as response:
            if response.url.scheme not in {"http", "https"}:
                raise SourceError(f"{url}: redirected to {response.url}, which is not http(s)")
            if response.status_code >= 500:
                raise _ServerError(f"HTTP {response.status_code}")
            if response.status_code >= 400:
                raise SourceError(f"{url}: HTTP {response.status_code} {response.reason_phrase}")
            content_type = response.headers.get("content-type", "").lower()
            if "text/html" in content_type and Path(target).suffix.lower() not in PAGE_SUFFIXES:
                raise SourceError(f"{url}: the server sent an HTML page, not a data file")
            declared = response.headers.get("content-length")
            if declared is not None and int(declared) > max_bytes:
                raise SourceError(f"{url}: {int(declared):,} bytes is over the {max_bytes:,}-byte limit")
            received = 0
            with open(target, "wb") as out:
                for chunk in response.iter_bytes():
                    received += len(chunk)
                    if received > max_bytes:
                        raise SourceError(f"{url}: more than the {max_bytes:,}-byte limit")
                    out.write(chunk)
            if declared is not None and received != int(declared):
                raise _ServerError(f"cut off: got {received:,} of {int(declared):,} bytes")
    with open(target, "rb") as f:
        head = f.read(512).lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")) and target.suffix.lower() not in PAGE_SUFFIXES:
        raise SourceError(f"{url}: the server sent an HTML page, not a data file")


def _zip_members(path: Path, label: str) -> Iterator[RawFile]:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise SourceError(f"{label}: not a readable zip archive ({exc})") from exc
    with archive:
        infos = [i for i in archive.infolist() if not i.is_dir()]
        for info in infos:
            member = PurePosixPath(info.filename.replace("\\", "/"))
            if member.is_absolute() or ".." in member.parts:
                raise SourceError(f"{label}: member {info.filename!r} points outside the archive; refused")
        expanded = sum(i.file_size for i in infos)
        compressed = sum(i.compress_size for i in infos) or 1
        if expanded > MAX_ZIP_EXPANDED_BYTES or (expanded > 50 * 1024**2 and expanded / compressed > MAX_ZIP_RATIO):
            raise SourceError(
                f"{label}: expands to {expanded:,} bytes from {compressed:,} (a zip bomb?); refused"
            )
        for info in sorted(infos, key=lambda i: i.filename):
            suffix = PurePosixPath(info.filename).suffix.lower()
            if suffix not in DATA_SUFFIXES or PurePosixPath(info.filename).name.startswith((".", "~$")):
                continue
            with archive.open(info) as member_file:
                # The header's size can lie; never read more than it promised.
                data = member_file.read(info.file_size + 1)
            if len(data) > info.file_size:
                raise SourceError(f"{label}: member {info.filename!r} is larger than its header says; refused")
            yield RawFile(name=f"{label}!{info.filename}", suffix=suffix, data=data)


def _local(path: Path, label: str) -> Iterator[RawFile]:
    suffix = path.suffix.lower()
    if suffix == ".zip":
        yield from _zip_members(path, label)
    else:
        yield RawFile(name=label, suffix=suffix, path=path)


def iter_files(sources: list[str | os.PathLike | RawFile], stack: ExitStack) -> Iterator[RawFile]:
    """Yield every data file behind `sources`, in a stable order. Downloads live as long as `stack`."""
    for source in sources:
        if isinstance(source, RawFile):
            yield source
            continue
        text = str(source)
        if _is_url(text):
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tobroles-dl-")))
            yield from _local(download(text, tmp), text)
            continue
        path = Path(text)
        if not path.exists():
            raise SourceError(f"{text}: no such file or folder")
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
            for p in found:
                if p.suffix.lower() in DATA_SUFFIXES | {".zip"}:
                    yield from _local(p, str(p))
        else:
            yield from _local(path, text)
