"""The receipt store: what it takes (the type from the content), what it refuses (other types,
disguised ones, too large, names that try to be paths), and how it keeps files."""

from __future__ import annotations

import hashlib
import os

import pytest

from funding.settings import ROOT
from funding.spending.errors import ReceiptError, SpendingError
from funding.spending.receipts import ReceiptStore, attachment_headers, checked_filename
from funding.spending.tables import ReceiptType
from tests.spending.conftest import JPEG, PDF, PNG


@pytest.mark.parametrize(
    ("data", "name", "media_type", "stored_name"),
    [
        (PDF, "factuur zaalhuur.pdf", ReceiptType.pdf, "factuur zaalhuur.pdf"),
        (PNG, "bon.png", ReceiptType.png, "bon.png"),
        (JPEG, "Bon café.JPEG", ReceiptType.jpeg, "Bon café.jpg"),
        (PDF, "scan.png", ReceiptType.pdf, "scan.pdf"),  # a PDF named .png is a PDF, and named so
        (JPEG, "zonder extensie", ReceiptType.jpeg, "zonder extensie.jpg"),
    ],
)
def test_a_pdf_png_or_jpeg_is_stored_under_its_hash_with_the_type_its_content_says(
    receipts, data, name, media_type, stored_name
):
    receipt = receipts.store(data, name)
    sha256 = hashlib.sha256(data).hexdigest()
    assert (receipt.sha256, receipt.media_type, receipt.size, receipt.filename) == (
        sha256,
        media_type,
        len(data),
        stored_name,
    )
    path = receipts.folder / sha256[:2] / sha256
    assert path.read_bytes() == data and receipts.open(sha256) == data
    assert os.listdir(path.parent) == [sha256]  # no temporary file left, nothing under the given name


def test_the_same_content_is_stored_once(receipts):
    first = receipts.store(PDF, "a.pdf")
    second = receipts.store(PDF, "b.pdf")
    assert first.sha256 == second.sha256 and (first.filename, second.filename) == ("a.pdf", "b.pdf")
    assert [p.name for p in receipts.folder.rglob("*") if p.is_file()] == [first.sha256]


@pytest.mark.parametrize(
    "data",
    [
        b"<!DOCTYPE html><html><script>alert(1)</script></html>",  # HTML named .pdf
        b"  %PDF-1.7\n",  # not at the start
        b"%PDF-x",
        b"GIF89a\x01\x00",
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 8,  # a PNG signature without its IHDR
        b"PK\x03\x04 a zip or docx",
        b"<svg xmlns='http://www.w3.org/2000/svg'/>",
    ],
    ids=["html", "pdf-not-first", "pdf-bad-version", "gif", "png-no-ihdr", "zip", "svg"],
)
def test_other_and_disguised_types_are_refused_whatever_the_name(receipts, data):
    with pytest.raises(ReceiptError) as refused:
        receipts.store(data, "bon.pdf")
    assert refused.value.field == "receipt" and isinstance(refused.value, SpendingError)
    assert not receipts.folder.exists() or not any(receipts.folder.rglob("*"))


def test_empty_and_oversize_receipts_are_refused(receipts):
    with pytest.raises(ReceiptError, match="leeg"):
        receipts.store(b"", "bon.pdf")
    receipts.store(PDF + b"x" * (1000 - len(PDF)), "exactly the limit.pdf")
    with pytest.raises(ReceiptError):
        receipts.store(PDF + b"x" * (1001 - len(PDF)), "one byte over.pdf")


@pytest.mark.parametrize(
    "name",
    [
        "../bon.pdf",
        "../../etc/passwd",
        "bonnen/../../bon.pdf",
        "/etc/passwd",
        "/tmp/bon.pdf",
        "C:\\Windows\\bon.pdf",
        "C:bon.pdf",
        "\\\\server\\share\\bon.pdf",
        "bon\x00.pdf",
        "bon.pdf\x00.html",
        "bon\n.pdf",
        "bon\u202efdp.exe",  # right-to-left override: shows as "bonexe.pdf"
        "..",
        ".",
        "",
        "   ",
        'bon".pdf',
        "x" * 201,
    ],
)
def test_names_that_try_to_be_paths_are_refused(receipts, name):
    with pytest.raises(ReceiptError):
        receipts.store(PDF, name)
    assert not receipts.folder.exists() or not any(receipts.folder.rglob("*"))


@pytest.mark.parametrize("sha256", ["../" * 5 + "etc/passwd", "a" * 63, "A" * 64, "g" * 64, "/" + "a" * 63, ""])
def test_opening_checks_the_hash_shape_before_any_path(receipts, sha256):
    with pytest.raises(ReceiptError):
        receipts.open(sha256)
    assert not receipts.exists(sha256)


def test_a_missing_or_changed_file_is_said_so(receipts):
    with pytest.raises(ReceiptError):
        receipts.open("0" * 64)
    receipt = receipts.store(PNG, "bon.png")
    (receipts.folder / receipt.sha256[:2] / receipt.sha256).write_bytes(PNG + b"changed")
    with pytest.raises(ReceiptError, match="hash"):
        receipts.open(receipt.sha256)


def test_the_store_is_never_inside_the_web_root(tmp_path):
    for inside in (ROOT / "static", ROOT / "static" / "receipts"):
        with pytest.raises(ValueError):
            ReceiptStore(inside)
    ReceiptStore(tmp_path / "elsewhere")


def test_a_receipt_is_served_as_a_download_that_is_never_sniffed(receipts):
    receipt = receipts.store(PDF, "Factuur café.pdf")
    headers = attachment_headers(receipt)
    assert headers["content-type"] == "application/pdf"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["content-disposition"] == (
        "attachment; filename=\"Factuur caf_.pdf\"; filename*=UTF-8''Factuur%20caf%C3%A9.pdf"
    )
    assert checked_filename("bon.tar.gz", ReceiptType.png) == "bon.tar.png"


def test_the_folder_size_limit_and_threshold_come_from_the_environment(tmp_path):
    from funding.settings import Settings

    settings = Settings.from_env(
        {
            "FUNDING_SECRET_KEY": "k",
            "FUNDING_RECEIPTS_DIR": str(tmp_path / "bonnen"),
            "FUNDING_RECEIPT_MAX_BYTES": "100",
            "FUNDING_CORRECTION_THRESHOLD": "2500",
        }
    )
    store = ReceiptStore.from_settings(settings)
    assert (store.folder, store.max_bytes, settings.correction_threshold_euros) == (tmp_path / "bonnen", 100, 2500)
    defaults = Settings.from_env({"FUNDING_SECRET_KEY": "k"})
    assert (defaults.receipts_dir, defaults.receipt_max_bytes, defaults.correction_threshold_euros) == (
        "receipts",
        10 * 2**20,
        10_000,
    )
