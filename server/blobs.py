"""Content-addressed file storage for attachments and form media.

A blob is stored once under ``<BLOB_DIR>/<aa>/<bb>/<sha256>``.  Writes go to a temporary file in
the same directory, are fsync'ed, renamed into place and the directory is fsync'ed, so a crash
leaves either the whole file or nothing under its final name.  Because the name is the content's
hash, writing the same bytes twice (a phone retrying) is harmless, and a file that exists is
always complete.  Database rows refer to blobs by sha256 and are committed *after* the file is
durable; a crash in between leaves an unreferenced file, never a row pointing at nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO


@dataclass(frozen=True, slots=True)
class StoredBlob:
    sha256: str
    md5: str
    size: int


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, sha256: str) -> Path:
        if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a sha256 hex digest: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def exists(self, sha256: str) -> bool:
        return self.path_for(sha256).is_file()

    def put(self, data: bytes) -> StoredBlob:
        """Store ``data`` durably and return its identity."""
        blob = StoredBlob(
            sha256=hashlib.sha256(data).hexdigest(),
            md5=hashlib.md5(data, usedforsecurity=False).hexdigest(),
            size=len(data),
        )
        final = self.path_for(blob.sha256)
        if final.is_file() and final.stat().st_size == blob.size:
            return blob
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=final.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp_name, final)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_name)
            raise
        _fsync_dir(final.parent)
        return blob

    def put_file(self, path: str | os.PathLike[str]) -> StoredBlob:
        """Store the file at ``path`` durably, reading it in chunks: memory stays flat whatever
        its size (a generated export).  The file is copied, hashed on the way, into a temporary
        file under the store's root, which is renamed to its final name once complete and
        fsync'ed; ``path`` itself is left alone."""
        with open(path, "rb") as source:
            return self.put_stream(source)

    def put_stream(self, source: BinaryIO, chunk_size: int = 1 << 20) -> StoredBlob:
        """Like :meth:`put_file`, from a binary stream read to its end."""
        self.root.mkdir(parents=True, exist_ok=True)
        sha256, md5, size = hashlib.sha256(), hashlib.md5(usedforsecurity=False), 0
        fd, tmp_name = tempfile.mkstemp(dir=self.root, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                while chunk := source.read(chunk_size):
                    sha256.update(chunk)
                    md5.update(chunk)
                    size += len(chunk)
                    handle.write(chunk)
                handle.flush()
                os.fsync(handle.fileno())
            blob = StoredBlob(sha256=sha256.hexdigest(), md5=md5.hexdigest(), size=size)
            final = self.path_for(blob.sha256)
            if final.is_file() and final.stat().st_size == blob.size:
                os.unlink(tmp_name)
                return blob
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp_name, final)  # same file system: the temporary file is under root
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_name)
            raise
        _fsync_dir(final.parent)
        return blob

    def read(self, sha256: str) -> bytes:
        return self.path_for(sha256).read_bytes()


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def blob_store() -> BlobStore:
    """The application's blob store (configured in :func:`server.create_app`)."""
    from flask import current_app

    return current_app.extensions["rasoat.blobs"]
