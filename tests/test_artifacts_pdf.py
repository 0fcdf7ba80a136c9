"""The PDF pack read back: its contents, the DRAFT watermark, and the digital signature."""

from __future__ import annotations

import asyncio
import io
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.db import connection, transaction
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader

from escalation.pdf import StaticOnlyFetcher, build_pack
from escalation.signing import DEVELOPMENT_COMMON_NAME, signing_files
from tests.factories import make_engagement, make_member, make_user, make_version, sign_off
from tests.framework_content import FAILURES, LEVELS, SYSTEMS, make_framework_content
from workshops.models import Role
from workshops.packs import artifact_source, pack_context

HEADINGS = [
    "AI systems in scope",
    "Performance threshold register",
    "Escalation ladder diagram",
    "Governance per level",
    "Failure mode response matrix",
    "Review cadence protocol",
    "Decisions log",
    "Sign-off",
]


@dataclass
class BuiltPack:
    pdf: bytes
    sha256: str


def build_version_pack(*, signed_off: bool) -> BuiltPack:
    engagement = make_engagement(slug="acme", client_organisation="Acme Insurance")
    make_framework_content(engagement.framework)
    version = make_version(engagement.framework)
    if signed_off:
        approvers = [
            make_member(
                engagement, Role.APPROVER, make_user(username, first_name=first, last_name=last)
            )
            for username, first, last in [("ada", "Ada", "Lovelace"), ("alan", "Alan", "Turing")]
        ]
        sign_off(engagement, version, approvers)
    source = artifact_source(engagement, version.number)
    return BuiltPack(build_pack(source.document, pack_context(source)), version.sha256)


def built_once(django_db_blocker: Any, *, signed_off: bool) -> BuiltPack:
    # Rendering takes seconds: build once for the module, in a transaction rolled back after.
    with django_db_blocker.unblock():
        with transaction.atomic():
            built = build_version_pack(signed_off=signed_off)
            transaction.set_rollback(True)
        # Built outside any test's connection handling: close what was opened here, or the
        # session outlives the run and blocks dropping the test database.
        connection.close()
    return built


@pytest.fixture(scope="module")
def signed(django_db_setup: Any, django_db_blocker: Any) -> BuiltPack:
    return built_once(django_db_blocker, signed_off=True)


@pytest.fixture(scope="module")
def unapproved(django_db_setup: Any, django_db_blocker: Any) -> BuiltPack:
    return built_once(django_db_blocker, signed_off=False)


@pytest.fixture
def signed_pack(signed: BuiltPack) -> bytes:
    return signed.pdf


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def flatten(text: str) -> str:
    return " ".join(text.split())


def test_pack_has_every_artifact_heading(signed_pack):
    text = pdf_text(signed_pack)
    assert all(heading in text for heading in HEADINGS)


def test_pack_names_every_model_failure_type_and_level(signed_pack):
    text = flatten(pdf_text(signed_pack))
    names = [s[1] for s in SYSTEMS] + [f[1] for f in FAILURES] + [lv[1] for lv in LEVELS]
    assert [name for name in names if name not in text] == []


def test_sign_off_page_lists_every_approver_and_the_hash(signed):
    last_page = PdfReader(io.BytesIO(signed.pdf)).pages[-1].extract_text()
    assert "Ada Lovelace" in last_page and "Alan Turing" in last_page
    assert signed.sha256 in flatten(last_page).replace(" ", "")


def test_contents_give_page_numbers(signed_pack):
    contents = PdfReader(io.BytesIO(signed_pack)).pages[1].extract_text()
    assert "Sign-off" in contents and any(char.isdigit() for char in contents.split("Sign-off")[-1])


def test_pages_carry_running_header_and_page_numbers(signed_pack):
    page = PdfReader(io.BytesIO(signed_pack)).pages[2].extract_text()
    assert "Acme Insurance · v1" in page and "Page 3 of" in page


def test_pack_of_an_unapproved_version_is_watermarked_draft_and_not_signed(unapproved):
    pdf = unapproved.pdf
    assert "DRAFT" in pdf_text(pdf)
    assert PdfFileReader(io.BytesIO(pdf)).embedded_signatures == []


def test_signed_off_pack_has_no_draft_watermark(signed_pack):
    assert "DRAFT" not in pdf_text(signed_pack)


def validation_context() -> ValidationContext:
    _, cert_path, _ = signing_files()  # the certificate sign_pdf signs with
    certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
    der = certificate.public_bytes(serialization.Encoding.DER)
    return ValidationContext(trust_roots=[asn1_x509.Certificate.load(der)])


def validate(signature: Any) -> Any:
    # Its own thread and event loop: Playwright's loop may be running in this one already.
    with ThreadPoolExecutor(max_workers=1) as pool:
        check = async_validate_pdf_signature(signature, validation_context())
        return pool.submit(asyncio.run, check).result()


def test_signature_validates_with_pyhanko_and_names_version_and_hash(signed):
    signature = PdfFileReader(io.BytesIO(signed.pdf)).embedded_signatures[0]
    status = validate(signature)
    assert status.bottom_line
    assert f"v1, SHA-256 {signed.sha256}" in str(signature.sig_object["/Reason"])


def test_development_signature_is_labelled_as_such(signed_pack):
    signature = PdfFileReader(io.BytesIO(signed_pack)).embedded_signatures[0]
    assert DEVELOPMENT_COMMON_NAME in signature.signer_cert.subject.human_friendly


def tampered(pdf: bytes) -> bytes:
    # One byte inside the first page's content stream, well within the signed byte range.
    offset = pdf.index(b"stream", 1000) + 40
    return pdf[:offset] + bytes([pdf[offset] ^ 0x01]) + pdf[offset + 1 :]


def test_signature_fails_after_one_byte_changes(signed_pack):
    signature = PdfFileReader(io.BytesIO(tampered(signed_pack))).embedded_signatures[0]
    status = validate(signature)
    assert not status.intact and not status.bottom_line


def pdfsig(pdf: bytes, tmp_path: Any) -> str:
    path = tmp_path / "pack.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdfsig", str(path)], capture_output=True, text=True).stdout


def test_pdfsig_reports_the_signature_valid(signed_pack, tmp_path):
    assert "Signature is Valid." in pdfsig(signed_pack, tmp_path)


def test_pdfsig_reports_a_changed_file_invalid(signed_pack, tmp_path):
    report = pdfsig(tampered(signed_pack), tmp_path)
    assert "Signature Validation: Digest Mismatch." in report


def test_fetcher_serves_static_files_and_data_urls(settings):
    fetcher = StaticOnlyFetcher()
    stylesheet = (settings.BASE_DIR / "static" / "css" / "pack.css").as_uri()
    assert b"@page" in fetcher.fetch(stylesheet).read()
    assert fetcher.fetch("data:text/plain,hello").read() == b"hello"


@pytest.mark.parametrize(
    "url",
    ["https://example.com/logo.png", "file:///etc/passwd", "ftp://example.com/x"],
)
def test_fetcher_refuses_anything_else(url, settings):
    with pytest.raises(ValueError, match="only use static files"):
        StaticOnlyFetcher().fetch(url)


def test_fetcher_refuses_paths_climbing_out_of_static(settings):
    escape = (settings.BASE_DIR / "static").as_uri() + "/../config/settings.py"
    with pytest.raises(ValueError):
        StaticOnlyFetcher().fetch(escape)
