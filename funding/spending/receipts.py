"""The receipt store: files named by their content's SHA-256, in a folder outside the web root.

A receipt's type is read from its first bytes (PDF `%PDF-`, PNG's signature and IHDR chunk,
JPEG's SOI marker), never from its name: an HTML page named `bon.pdf` is refused, and a PDF named
`bon.png` is a PDF (its stored name takes the `.pdf` its content says, so whoever downloads it
opens it with the right program). The file is written under `<sha256[:2]>/<sha256>`, never under
the name it came with, atomically (a temporary file in the same folder, renamed into place), and
the same content is stored once. Reading checks the hash's shape first, so no path reaches the
file system from outside, and the content against its hash after.

The uploaded name is kept only to show staff and to name a download; a name that tries to be a
path (`../`, `/etc/passwd`, `C:\\…`, a NUL or another control character) is refused, not cleaned:
nobody uploads a receipt by that name by accident.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from funding.i18n import _
from funding.settings import ROOT, Settings
from funding.spending.errors import ReceiptError
from funding.spending.tables import ReceiptType

MAX_BYTES = 10 * 2**20
MAX_NAME = 200
EXTENSIONS = {ReceiptType.pdf: ".pdf", ReceiptType.png: ".png", ReceiptType.jpeg: ".jpg"}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_SHA256 = re.compile(r"[0-9a-f]{64}")
_PDF = re.compile(rb"%PDF-[12]\.\d")
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,5}$")


@dataclass(frozen=True)
class Receipt:
    sha256: str
    media_type: ReceiptType
    size: int
    filename: str
    """The uploaded name, checked, with the extension its content says."""


def sniff(data: bytes) -> ReceiptType | None:
    """The type the first bytes say, if it is one the store takes."""
    if _PDF.match(data):
        return ReceiptType.pdf
    if data.startswith(PNG_SIGNATURE) and data[12:16] == b"IHDR":
        return ReceiptType.png
    if data.startswith(b"\xff\xd8\xff"):
        return ReceiptType.jpeg
    return None


def checked_filename(filename: str, media_type: ReceiptType) -> str:
    """The uploaded name as shown and downloaded, or a `ReceiptError` for one that tries to be a path."""
    name = unicodedata.normalize("NFC", filename).strip()
    if (
        not name
        or len(name) > MAX_NAME
        or any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in name)
        or any(c in name for c in '/\\:"')
        or name.startswith(("..", "~"))
        or name in (".", "..")
    ):
        raise ReceiptError(
            _('Give the receipt a plain file name (no folders, and no special characters such as / \\ : or ").')
        )
    stem = _EXTENSION.sub("", name) or name
    return stem[: MAX_NAME - 4] + EXTENSIONS[media_type]


def is_sha256(value: str) -> bool:
    return isinstance(value, str) and _SHA256.fullmatch(value) is not None


def attachment_headers(receipt: Receipt) -> dict[str, str]:
    """The headers a receipt is served with: always a download (never shown in the page), its
    type from its content, and no sniffing it into another."""
    ascii_name = receipt.filename.encode("ascii", "replace").decode().replace("?", "_")
    return {
        "content-type": receipt.media_type.value,
        "content-disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(receipt.filename)}",
        "x-content-type-options": "nosniff",
        "content-security-policy": "default-src 'none'; sandbox",
        "cache-control": "private, no-store",
    }


class ReceiptStore:
    def __init__(self, folder: str | Path, *, max_bytes: int = MAX_BYTES) -> None:
        self.folder = Path(folder).resolve()
        web_root = (ROOT / "static").resolve()
        if self.folder == web_root or web_root in self.folder.parents:
            raise ValueError(f"receipts_dir {self.folder} is inside {web_root}: receipts are served only by the app")
        self.max_bytes = max_bytes

    @classmethod
    def from_settings(cls, settings: Settings) -> ReceiptStore:
        return cls(settings.receipts_dir, max_bytes=settings.receipt_max_bytes)

    def store(self, data: bytes, filename: str) -> Receipt:
        """Check and keep an upload; the same content is stored once (and answers the same)."""
        if not data:
            raise ReceiptError(_("The receipt is empty."))
        if len(data) > self.max_bytes:
            raise ReceiptError(
                _("The receipt is larger than %(megabytes)s MB.") % {"megabytes": f"{self.max_bytes / 2**20:g}"}
            )
        media_type = sniff(data)
        if media_type is None:
            raise ReceiptError(_("A receipt is a PDF, PNG or JPEG file; this file is none of those."))
        name = checked_filename(filename, media_type)
        sha256 = hashlib.sha256(data).hexdigest()
        path = self._path(sha256)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.parent / f".{sha256}.{secrets.token_hex(8)}.part"
            try:
                with open(temporary, "xb") as file:
                    file.write(data)
                    file.flush()
                    os.fsync(file.fileno())
                os.replace(temporary, path)
            finally:
                temporary.unlink(missing_ok=True)
        return Receipt(sha256=sha256, media_type=media_type, size=len(data), filename=name)

    def open(self, sha256: str) -> bytes:
        """The stored receipt's bytes; `sha256` is checked to be a hash before it names a file."""
        if not is_sha256(sha256):
            raise ReceiptError(_("There is no receipt with this name."))
        try:
            data = self._path(sha256).read_bytes()
        except FileNotFoundError:
            raise ReceiptError(_("There is no receipt with this name.")) from None
        if hashlib.sha256(data).hexdigest() != sha256:
            raise ReceiptError(_("The stored receipt does not match its hash: it was changed after it was stored."))
        return data

    def exists(self, sha256: str) -> bool:
        return is_sha256(sha256) and self._path(sha256).is_file()

    def _path(self, sha256: str) -> Path:
        assert is_sha256(sha256)
        return self.folder / sha256[:2] / sha256
