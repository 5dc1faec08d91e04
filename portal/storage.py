"""Where uploaded files lie: one small interface, files under the instance folder by
default, which an object store could replace.

A file is named by a key, a relative path of plain names (``tenants/7/logo-….png``):
letters, digits, dots, dashes and underscores, each name starting with a letter or a
digit. Nothing else is a key, so no key reaches outside the storage's root (no ``..``,
no absolute path, no backslash, no NUL), whatever a caller passes.

Files follow the database transaction that names them: ``save_in`` removes again what
was saved when the transaction rolls back, ``delete_after_commit`` removes a file only
once the transaction that stopped naming it has committed. A rolled back request thus
never leaves a record naming a deleted file.
"""

import logging
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Protocol

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

#: One name of a key's path.
NAME = r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}"
KEY = re.compile(rf"{NAME}(?:/{NAME}){{0,9}}")
MAX_KEY_LENGTH = 200
#: Where the application keeps its storage in ``app.extensions``.
EXTENSION = "portal.storage"

log = logging.getLogger(__name__)


class UnsafeKey(ValueError):
    """A key that is no plain relative path: refused before any file is touched."""


class NotStored(LookupError):
    """No file is stored under this key."""

    def __init__(self, key: str):
        super().__init__(f"nothing is stored under {key!r}")
        self.key = key


def check_key(key: str) -> str:
    if not isinstance(key, str) or len(key) > MAX_KEY_LENGTH or not KEY.fullmatch(key):
        raise UnsafeKey(f"not a storage key: {key!r}")
    return key


class Storage(Protocol):
    """What the application asks of a storage; keys are checked with ``check_key``."""

    def save(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key``, replacing what was there."""

    def read(self, key: str) -> bytes:
        """The bytes stored under ``key``; raises ``NotStored`` when there are none."""

    def delete(self, key: str) -> None:
        """Remove what is stored under ``key``; nothing stored is no error."""

    def exists(self, key: str) -> bool:
        """Whether something is stored under ``key``."""

    def writer(self, key: str):
        """A context manager giving a binary file to write a large file into, piece by
        piece; stored under ``key`` only when the block ends without an error."""

    def open(self, key: str) -> BinaryIO:
        """The file stored under ``key``, opened for reading as a stream (the caller
        closes it); raises ``NotStored`` when there is none."""


class LocalStorage:
    """Files in a folder (created on demand), one per key; a file is written to a
    temporary name and then renamed, so a reader never sees half of one."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def path(self, key: str) -> Path:
        path = self.root / check_key(key)
        # The key's grammar already keeps it inside; a symbolic link must not lead out.
        root = self.root.resolve()
        if not path.resolve().is_relative_to(root):
            raise UnsafeKey(f"{key!r} leads outside the storage")
        return path

    def save(self, key: str, data: bytes) -> None:
        with self.writer(key) as file:
            file.write(data)

    @contextmanager
    def writer(self, key: str) -> Iterator[BinaryIO]:
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(handle, "w+b") as file:
                yield file
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def open(self, key: str) -> BinaryIO:
        try:
            return self.path(key).open("rb")
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise NotStored(key) from None

    def read(self, key: str) -> bytes:
        try:
            return self.path(key).read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise NotStored(key) from None

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()


def register(app: Flask) -> None:
    """Give the application its storage: ``UPLOADS_DIR``, else ``<instance>/uploads``.
    Nothing is created until a file is saved."""
    root = app.config.get("UPLOADS_DIR") or Path(app.instance_path) / "uploads"
    app.extensions.setdefault(EXTENSION, LocalStorage(root))


def storage() -> Storage:
    """The current application's storage."""
    return current_app.extensions[EXTENSION]


# Files that follow the transaction: keys kept in the session's info until it ends.
SAVED = "portal.storage.saved"
DELETED = "portal.storage.deleted"


def save_in(session: Session, key: str, data: bytes) -> None:
    """Store ``data`` now; remove it again if ``session``'s transaction rolls back."""
    storage().save(key, data)
    session.info.setdefault(SAVED, []).append((storage(), key))


def delete_after_commit(session: Session, key: str) -> None:
    """Remove the file under ``key`` once ``session``'s transaction has committed."""
    check_key(key)
    session.info.setdefault(DELETED, []).append((storage(), key))


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    session.info.pop(SAVED, None)
    for store, key in session.info.pop(DELETED, []):
        try:
            store.delete(key)
        except OSError:  # committed all the same: the file is only left over
            log.warning("could not delete the stored file %s", key)


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    session.info.pop(DELETED, None)
    for store, key in session.info.pop(SAVED, []):
        try:
            store.delete(key)
        except OSError:
            log.warning("could not delete the stored file %s", key)
