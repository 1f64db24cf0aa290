"""HTTPS on loopback: a throwaway CA, leaf/expired/self-signed certificates and a TLS server.

The `https` check (certificate valid, days to expiry, HTTP→HTTPS redirect) and the crawler's
`https` gathering need real TLS handshakes to be tested and demonstrated. Certificates are made
in-process with `cryptography` (portable, no `openssl` binary needed on the demo machine) using
P-256 keys, which take milliseconds to generate, so every test can build its own CA.

`TLSLoopbackServer` is a `LoopbackServer` whose connections are upgraded to TLS before the first
request is read (`StreamWriter.start_tls`), so routing, keep-alive, trickling and the clean
shutdown are exactly those of the plain server. It serves one certificate per SNI hostname and a
default certificate for clients sending no SNI (IP literals) or an unknown name.

Recipe for reading a peer certificate from an httpx response (what the crawler stores):
    obj = response.extensions["network_stream"].get_extra_info("ssl_object")
    obj.getpeercert()                 # dict (notAfter, issuer, subject) only when verified
    obj.getpeercert(binary_form=True) # DER, always; parse with cryptography.x509 when unverified
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import itertools
import os
import re
import ssl
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from zwgk.loopback.http import LoopbackServer, Request, Resp, Route

CertPair = tuple[Path, Path]  # (certfile, keyfile), PEM
_HANDSHAKE_TIMEOUT = 10.0
_serials = itertools.count(1)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _name(common_name: str, org: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _san(hostnames: Iterable[str]) -> x509.SubjectAlternativeName:
    entries: list[x509.GeneralName] = []
    for host in hostnames:
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(host.strip("[]"))))
        except ValueError:
            entries.append(x509.DNSName(host.lower()))
    return x509.SubjectAlternativeName(entries)


def _stem(hostnames: list[str]) -> str:
    # One readable, unique file stem per certificate (several certs per host in one tmpdir).
    return f"{re.sub(r'[^A-Za-z0-9.-]+', '_', hostnames[0])}-{next(_serials)}"


def _write_pair(directory: Path, stem: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey
                ) -> CertPair:
    directory.mkdir(parents=True, exist_ok=True)
    certfile, keyfile = directory / f"{stem}.pem", directory / f"{stem}.key"
    certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    # The key is test material, but a world-readable private key is a bad habit to demonstrate.
    fd = os.open(keyfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return certfile, keyfile


def _validity(not_after_days: float, expired: bool) -> tuple[dt.datetime, dt.datetime]:
    now = _now()
    if expired:  # expired yesterday after a normal 90-day life: "certificate has expired"
        return now - dt.timedelta(days=91), now - dt.timedelta(days=1)
    return now - dt.timedelta(hours=1), now + dt.timedelta(days=not_after_days)


def _leaf_builder(hostnames: list[str], subject: x509.Name, issuer: x509.Name,
                  key: ec.EllipticCurvePrivateKey, not_after_days: float, expired: bool
                  ) -> x509.CertificateBuilder:
    not_before, not_after = _validity(not_after_days, expired)
    return (x509.CertificateBuilder()
            .subject_name(subject).issuer_name(issuer).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before).not_valid_after(not_after)
            .add_extension(_san(hostnames), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=False, crl_sign=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))


def _hosts(hostnames: Iterable[str] | str) -> list[str]:
    hosts = [hostnames] if isinstance(hostnames, str) else list(hostnames)
    if not hosts:
        raise ValueError("at least one hostname is needed")
    return hosts


@dataclass
class CA:
    """A throwaway certificate authority; `cert_path` is the bundle a client is told to trust."""

    dir: Path
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey
    cert_path: Path

    def issue(self, hostnames: Iterable[str] | str, *, not_after_days: float = 90,
              expired: bool = False) -> CertPair:
        """A server certificate for `hostnames` (DNS names or IP literals) signed by this CA."""
        hosts = _hosts(hostnames)
        key = ec.generate_private_key(ec.SECP256R1())
        ski = self.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        cert = (_leaf_builder(hosts, _name(hosts[0], "zwgk-audit loopback"), self.cert.subject, key,
                              not_after_days, expired)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski),
                               critical=False)
                .sign(self.key, hashes.SHA256()))
        return _write_pair(self.dir, _stem(hosts), cert, key)

    def client_context(self) -> ssl.SSLContext:
        """A verifying client context trusting only this CA (httpx `verify=`)."""
        return ssl.create_default_context(cafile=str(self.cert_path))


def make_ca(tmpdir: str | os.PathLike[str], name: str = "zwgk-audit loopback CA") -> CA:
    """A new CA whose files live in `tmpdir` (created if missing)."""
    directory = Path(tmpdir)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = _name(name, "zwgk-audit loopback")
    now = _now()
    cert = (x509.CertificateBuilder()
            .subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=True, crl_sign=True,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, _ = _write_pair(directory, f"ca-{next(_serials)}", cert, key)
    return CA(directory, cert, key, cert_path)


def self_signed(tmpdir: str | os.PathLike[str], hostnames: Iterable[str] | str, *,
                not_after_days: float = 90, expired: bool = False) -> CertPair:
    """A leaf certificate signed by its own key (no CA anyone trusts): a verification error."""
    hosts = _hosts(hostnames)
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(hosts[0], "zwgk-audit self-signed")
    cert = _leaf_builder(hosts, name, name, key, not_after_days, expired).sign(key, hashes.SHA256())
    return _write_pair(Path(tmpdir), _stem(hosts), cert, key)


def server_context(certs: Mapping[str, CertPair] | CertPair, default: CertPair | None = None
                   ) -> ssl.SSLContext:
    """A server context choosing the certificate by SNI hostname.

    `certs` maps hostname → (certfile, keyfile), or is one pair for every name. `default` answers
    clients without SNI or with an unknown name; it falls back to the first pair of `certs`.
    """
    pairs: dict[str, CertPair] = ({"": certs} if isinstance(certs, tuple)
                                  else {h.lower().rstrip("."): p for h, p in certs.items()})
    if not pairs and default is None:
        raise ValueError("no certificate given")
    fallback = default if default is not None else next(iter(pairs.values()))

    def load(pair: CertPair) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(pair[0]), str(pair[1]))
        return ctx

    by_name = {h: load(p) for h, p in pairs.items() if h}
    main = load(fallback)

    def choose(sslobj: ssl.SSLObject, server_name: str | None, _ctx: ssl.SSLContext) -> None:
        chosen = by_name.get((server_name or "").lower().rstrip("."))
        if chosen is not None:
            sslobj.context = chosen

    if by_name:
        main.sni_callback = choose
    return main


class TLSLoopbackServer(LoopbackServer):
    """HTTPS on 127.0.0.1 and/or ::1 (same port); everything else as `LoopbackServer`.

    `tls` is a server context (see `server_context`); `sni` records the server names clients sent
    (None for no SNI) so tests can assert the crawler kept the real hostname over a pinned address.
    """

    def __init__(self, routes: Mapping[str, Route] | Callable[[Request], Resp] | None = None, *,
                 tls: ssl.SSLContext, **kwargs: Any) -> None:
        super().__init__(routes, **kwargs)
        self.tls = tls
        self.handshake_errors: list[BaseException] = []
        self.sni: list[str | None] = []
        self._upgraded: set[int] = set()  # id() of writers already speaking TLS
        # typeshed types the server name as str; CPython passes None when the client sent no SNI
        previous = cast("Callable[[ssl.SSLObject, str | None, ssl.SSLContext], object] | None", tls.sni_callback)

        def record(sslobj: ssl.SSLObject, name: str | None, ctx: ssl.SSLContext) -> None:
            self.sni.append(name)
            if previous is not None:
                previous(sslobj, name, ctx)

        tls.sni_callback = record

    async def _one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, family: int) -> bool:
        # The first call per connection runs inside LoopbackServer._handle, which already tracks
        # the task and writer, so stop() aborts a handshake in progress like any request.
        if id(writer) not in self._upgraded:
            try:
                await writer.start_tls(self.tls, ssl_handshake_timeout=_HANDSHAKE_TIMEOUT)
            except (OSError, EOFError) as exc:  # bad cert for the client, plain HTTP, timeout
                self.handshake_errors.append(exc)
                return False
            self._upgraded.add(id(writer))
        return await super()._one(reader, writer, family)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, family: int) -> None:
        try:
            await super()._handle(reader, writer, family)
        finally:
            self._upgraded.discard(id(writer))  # ids are reused: forget closed connections

    def url(self, path: str = "/", host: str | None = None) -> str:
        return "https://" + super().url(path, host).removeprefix("http://")

