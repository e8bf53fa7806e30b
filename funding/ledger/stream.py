"""Reading a `/ledger.json` export entry by entry, so verifying one of any length keeps memory
flat: `{"head_seq": …, "head_hash": …, "entries": [ {…}, {…}, … ]}`, its keys in any order and
any JSON whitespace between tokens (a file pretty-printed by someone else reads too).

Each entry object is decoded on its own (the standard library's C scanner finds where it ends;
msgspec checks it against `EntryRecord`); the buffer holds one chunk and one entry at most.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterable, Iterator

import msgspec

from funding.ledger.chain import EntryRecord

CHUNK = 1 << 20
WHITESPACE = " \t\n\r"


class ExportError(ValueError):
    """The file is not a ledger export."""


class ExportReader:
    """Iterate `entries()`; `head_seq` and `head_hash` are set once the reader has passed them
    (after the last entry at the latest)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._json = json.JSONDecoder()
        self._buffer = ""
        self._at = 0
        self._done = False
        self.head_seq: int | None = None
        self.head_hash: str | None = None

    # -- the buffer ---------------------------------------------------------------------------
    def _more(self) -> bool:
        if self._done:
            return False
        chunk = next(self._chunks, None)
        if chunk is None:
            self._done = True
            tail = self._decoder.decode(b"", final=True)
        else:
            tail = self._decoder.decode(chunk)
        self._buffer = self._buffer[self._at :] + tail
        self._at = 0
        return True

    def _skip_whitespace(self) -> str:
        """The next character that is not whitespace (not consumed); '' at the end."""
        while True:
            buffer, at = self._buffer, self._at
            while at < len(buffer) and buffer[at] in WHITESPACE:
                at += 1
            self._at = at
            if at < len(buffer):
                return buffer[at]
            if not self._more():
                return ""

    def _expect(self, allowed: str) -> str:
        char = self._skip_whitespace()
        if not char or char not in allowed:
            raise ExportError(f"expected one of {allowed!r}, found {char or 'the end'!r}")
        self._at += 1
        return char

    def _value(self) -> object:
        """The next JSON value, read whole (an entry, a key, a head field)."""
        self._skip_whitespace()
        while True:
            try:
                value, end = self._json.raw_decode(self._buffer, self._at)
            except json.JSONDecodeError as exc:
                if self._more():
                    continue
                raise ExportError(f"not JSON: {exc}") from exc
            if end == len(self._buffer) and not self._done and not isinstance(value, (dict, list, str)):
                # a number may go on in the next chunk
                self._more()
                continue
            self._at = end
            return value

    # -- the document -------------------------------------------------------------------------
    def entries(self) -> Iterator[EntryRecord]:
        self._expect("{")
        if self._skip_whitespace() == "}":
            raise ExportError("the export has no entries")
        seen_entries = False
        while True:
            key = self._value()
            self._expect(":")
            if key == "entries":
                seen_entries = True
                yield from self._entry_array()
            elif key == "head_seq":
                value = self._value()
                if not isinstance(value, int) or isinstance(value, bool):
                    raise ExportError("head_seq is not a number")
                self.head_seq = value
            elif key == "head_hash":
                value = self._value()
                if not isinstance(value, str):
                    raise ExportError("head_hash is not a string")
                self.head_hash = value
            else:
                self._value()
            if self._expect(",}") == "}":
                break
        if self._skip_whitespace():
            raise ExportError("more data after the export")
        if not seen_entries or self.head_seq is None or self.head_hash is None:
            raise ExportError("an export has head_seq, head_hash and entries")

    def _entry_array(self) -> Iterator[EntryRecord]:
        self._expect("[")
        if self._skip_whitespace() == "]":
            self._at += 1
            return
        while True:
            fast = self._compact_run()
            if fast:
                yield from fast
                self._expect(",")
                continue
            value = self._value()
            try:
                yield msgspec.convert(value, EntryRecord)
            except msgspec.ValidationError as exc:
                raise ExportError(f"not a ledger entry: {exc}") from exc
            if self._expect(",]") == "]":
                return

    def _compact_run(self) -> list[EntryRecord]:
        """The entries from here to the last `},{"seq":` in the buffer, in one msgspec decode,
        when the export is written compactly (as the app writes it). That text cannot occur inside
        a JSON string (its quote would be escaped), so it only ever separates two entries. Any
        other layout, or anything msgspec refuses, is left to the entry-by-entry path."""
        end = self._buffer.rfind(COMPACT_SEPARATOR, self._at)
        if end == -1:
            return []
        try:
            entries = _ENTRIES.decode("[" + self._buffer[self._at : end + 1] + "]")
        except (msgspec.DecodeError, msgspec.ValidationError):
            return []
        self._at = end + 1
        return entries


COMPACT_SEPARATOR = '},{"seq":'
_ENTRIES = msgspec.json.Decoder(list[EntryRecord])


def file_chunks(path: str, size: int = CHUNK) -> Iterator[bytes]:
    with open(path, "rb") as handle:
        while chunk := handle.read(size):
            yield chunk
