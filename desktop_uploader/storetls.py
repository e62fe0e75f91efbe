"""The embedded store's keys: a private certificate authority and weed's ``security.toml``.

At every start the keeper makes a fresh CA, a server certificate and a client certificate
(ECDSA P-256, made with ``cryptography``). The CA's private key is never written anywhere: once
the two certificates are signed it is dropped, so nobody can issue another certificate that the
store would accept. weed gets:

* mutual TLS on every gRPC port (``[grpc]`` CA plus ``[grpc.<component>]`` server and client
  certificates, and ``allowed_commonNames`` naming our client certificate only);
* HTTPS that requires our client certificate on the master, volume, filer and admin HTTP ports
  (``[https.<component>]`` with a ``ca``), and ``[https.client]`` so weed's own components reach
  each other that way;
* fresh JWT keys for volume and filer reads and writes, a second lock on those HTTP ports.

weed re-reads the certificate files (grpc-go's ``pemfile`` providers refresh them every few
hours, the HTTPS servers use reloading certificate providers too), so they stay on disk, 0600 in
the keeper's 0700 runtime folder, for as long as weed runs; the keeper removes them at stop.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

SERVER_NAME = "desktop-uploader-store"
CLIENT_NAME = "desktop-uploader-store-client"
GRPC_COMPONENTS = ("master", "volume", "filer", "s3", "admin", "worker")
HTTPS_COMPONENTS = ("master", "volume", "filer", "admin")
JWT_SECTIONS = ("jwt.signing", "jwt.signing.read", "jwt.filer_signing", "jwt.filer_signing.read")


@dataclass(frozen=True)
class StoreCertificates:
    """Paths of the PEM files one start of the store uses."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path

    def all(self) -> tuple[Path, ...]:
        return (self.ca, self.server_cert, self.server_key, self.client_cert, self.client_key)


def write_certificates(folder: Path) -> StoreCertificates:
    """Make a CA and its server and client certificates; write them (0600) into ``folder``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.UTC)
    # The certificates live as long as one run of the store; a long validity only means that a
    # store left running for years keeps working. Clocks a little behind are tolerated.
    not_before, not_after = now - datetime.timedelta(hours=1), now + datetime.timedelta(days=3650)

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    def usage(**on: bool) -> x509.KeyUsage:
        flags = (
            *("digital_signature", "content_commitment", "key_encipherment"),
            *("data_encipherment", "key_agreement", "key_cert_sign", "crl_sign"),
            *("encipher_only", "decipher_only"),
        )
        return x509.KeyUsage(**{f: on.get(f, False) for f in flags})

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = name(f"{SERVER_NAME} CA {secrets.token_hex(4)}")
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(usage(key_cert_sign=True, crl_sign=True), critical=True)
        .sign(ca_key, hashes.SHA256())
    )

    def leaf(cn: str, purpose) -> tuple[bytes, bytes]:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(name(cn))
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(usage(digital_signature=True), critical=True)
            .add_extension(x509.ExtendedKeyUsage([purpose]), critical=False)
            .add_extension(
                x509.SubjectAlternativeName(
                    [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
                ),
                critical=False,
            )
            .sign(ca_key, hashes.SHA256())
        )
        pem_key = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return cert.public_bytes(serialization.Encoding.PEM), pem_key

    server = leaf(SERVER_NAME, ExtendedKeyUsageOID.SERVER_AUTH)
    client = leaf(CLIENT_NAME, ExtendedKeyUsageOID.CLIENT_AUTH)
    # ca_key is not written anywhere: no further certificate can be signed for this run.
    paths = StoreCertificates(
        folder / "ca.crt",
        folder / "server.crt",
        folder / "server.key",
        folder / "client.crt",
        folder / "client.key",
    )
    contents = (ca.public_bytes(serialization.Encoding.PEM), *server, *client)
    for path, data in zip(paths.all(), contents, strict=True):
        write_private(path, data)
    return paths


def write_private(path: Path, data: bytes | str) -> None:
    """Create ``path`` readable by this user only (fails if it exists: no symlink games)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)


def security_toml(certs: StoreCertificates | None = None) -> str:
    """weed's ``security.toml``: fresh JWT keys, and with ``certs`` mutual TLS everywhere."""
    tables: dict[str, dict[str, object]] = {
        s: {"key": secrets.token_urlsafe(32), "expires_after_seconds": 10} for s in JWT_SECTIONS
    }
    # The volume server's status page stays off (its default once a signing key is set).
    tables["access"] = {"ui": False}
    if certs is not None:
        server = {"cert": str(certs.server_cert), "key": str(certs.server_key)}
        client = {"cert": str(certs.client_cert), "key": str(certs.client_key)}
        tables["grpc"] = {"ca": str(certs.ca)}
        for c in GRPC_COMPONENTS:
            tables[f"grpc.{c}"] = {
                **server,
                "client_cert": client["cert"],
                "client_key": client["key"],
                "allowed_commonNames": CLIENT_NAME,  # a certificate of ours, and the client one
            }
        tables["grpc.client"] = client
        tables["https.client"] = {"enabled": True, **client, "ca": str(certs.ca)}
        for c in HTTPS_COMPONENTS:
            tables[f"https.{c}"] = {**server, "ca": str(certs.ca)}
    return "\n".join(
        f"[{name}]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in values.items())
        for name, values in tables.items()
    )
