"""The digital signature on the pack of a signed-off version (PAdES baseline, with pyHanko).

Key and certificate come from settings (SIGNING_KEY_FILE, SIGNING_CERT_FILE, optional
SIGNING_KEY_PASSWORD). With SIGNING_TIMESTAMP_URL set, a timestamp from that server lifts the
signature from B-B to B-T. In development (and tests) a self-signed pair is generated on first use
under `.dev-signing/`, its certificate named so nobody mistakes it for a production key.
"""

from __future__ import annotations

import asyncio
import datetime
import fcntl
import io
import os
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from asn1crypto import x509 as asn1_x509  # type: ignore[import-untyped]
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers, timestamps
from pyhanko.sign.signers.pdf_signer import PdfSignatureMetadata
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

DEVELOPMENT_COMMON_NAME = "Escalation Workshop DEVELOPMENT key — not for production"
SIGNATURE_FIELD = "ApprovalSignature"


def _write_development_pair(key_path: Path, cert_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, DEVELOPMENT_COMMON_NAME),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Escalation Workshop (development)"),
        ]
    )
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        # Signature validators (pyHanko's among them) insist on non-repudiation for a signature
        # that commits the signer to the document's content.
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    # Readable by its owner only from the moment it exists (not chmod after writing); a key left
    # by an interrupted first run is replaced, not reused with its old mode.
    key_path.unlink(missing_ok=True)
    descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as key_file:
        key_file.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))


def development_pair(directory: Path) -> tuple[Path, Path]:
    """The development key and certificate, generated once under `directory`."""
    directory.mkdir(mode=0o700, exist_ok=True)
    key_path, cert_path = directory / "signing-key.pem", directory / "signing-cert.pem"
    # Web and task workers may sign at the same moment on a fresh checkout: one generates.
    with open(directory / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (key_path.exists() and cert_path.exists()):
            _write_development_pair(key_path, cert_path)
    return key_path, cert_path


def signing_files() -> tuple[Path, Path, bytes | None]:
    """(key file, certificate file, key password) from settings, or the development pair."""
    key_file, cert_file = settings.SIGNING_KEY_FILE, settings.SIGNING_CERT_FILE
    if key_file and cert_file:
        password = settings.SIGNING_KEY_PASSWORD
        return Path(key_file), Path(cert_file), password.encode() if password else None
    if not settings.DEVELOPMENT:
        raise ImproperlyConfigured(
            "Signing a pack needs SIGNING_KEY_FILE and SIGNING_CERT_FILE (PEM files)."
        )
    key_path, cert_path = development_pair(Path(settings.SIGNING_DEVELOPMENT_DIR))
    return key_path, cert_path, None


def sign_pdf(pdf: bytes, *, reason: str) -> bytes:
    """`pdf` with an approval signature added as an incremental update."""
    key_path, cert_path, password = signing_files()
    signer = signers.SimpleSigner.load(str(key_path), str(cert_path), key_passphrase=password)
    if signer is None:
        raise ImproperlyConfigured(f"Could not load the signing key {key_path} or {cert_path}.")
    timestamper = (
        timestamps.HTTPTimeStamper(settings.SIGNING_TIMESTAMP_URL)
        if settings.SIGNING_TIMESTAMP_URL
        else None
    )
    metadata = PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD,
        reason=reason,
        name=signer.subject_name,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        use_pades_lta=False,
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))

    def sign() -> bytes:
        output = asyncio.run(
            signers.async_sign_pdf(writer, metadata, signer=signer, timestamper=timestamper)
        )
        return output.getvalue()

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return sign()
    # Under a running event loop (an async caller) asyncio.run refuses: sign in a fresh thread.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(sign).result()


def _in_own_loop[T](make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())
    # Under a running event loop (an async caller) asyncio.run refuses: run in a fresh thread.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()


def signature_problem(pdf: bytes) -> str:
    """Why `pdf` does not carry one intact signature by our signing certificate ("" if it does)."""
    _, cert_path, _ = signing_files()
    certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
    trusted = asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))
    try:
        signatures = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    except Exception as error:  # a file too damaged to parse is a finding, not a crash
        return f"unreadable PDF ({error})"
    if len(signatures) != 1:
        return f"{len(signatures)} signatures, expected 1"
    status = _in_own_loop(
        lambda: async_validate_pdf_signature(
            signatures[0], ValidationContext(trust_roots=[trusted])
        )
    )
    if not status.intact or not status.valid:
        return "the signature does not match the file"
    if not status.trusted:
        return "the signature is not by the signing certificate"
    if status.coverage is not SignatureCoverageLevel.ENTIRE_FILE:
        return "the file was changed after it was signed"
    return ""
