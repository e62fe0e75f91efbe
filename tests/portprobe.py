"""Knock on a TCP port the ways a local attacker would (stdlib only: it also runs in a child
process that has dropped to another user).

Each probe answers what the other side did, in a word or an HTTP status:

* ``http``: a plain HTTP/1.1 request; the status code, or how the connection ended;
* ``h2c``: the HTTP/2 preface in clear text, as an unauthenticated gRPC client sends it;
  ``"h2-settings"`` means a gRPC/HTTP2 server answered (the port takes unauthenticated gRPC);
* ``tls_http`` / ``tls_h2``: the same inside TLS, with or without a client certificate;
  ``"tls-refused"`` means the handshake failed or the server closed the connection before
  answering anything (what a server that requires a client certificate does).
"""

from __future__ import annotations

# Imported here, not on first use: a child running as another user may not be allowed to read
# the Python installation's files any more (pyenv under /root), so nothing may load lazily.
import encodings.idna  # noqa: F401 - socket.create_connection encodes host names with it
import socket
import ssl

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
SETTINGS = 0x04


def _connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=3)


def _read_some(s) -> bytes:
    """What the server says first: an HTTP status line or an HTTP/2 frame header (or nothing,
    if it closes the connection or stays silent)."""
    data = b""
    try:
        while len(data) < 9 or (data.startswith(b"HTTP/") and b"\r\n" not in data):
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    except (TimeoutError, ssl.SSLError, OSError):
        pass
    return data


def _classify(data: bytes, h2: bool) -> str | int:
    if data.startswith(b"HTTP/"):
        try:
            return int(data.split(b" ", 2)[1])
        except (IndexError, ValueError):
            return "http-garbled"
    if h2 and len(data) >= 9 and data[3] == SETTINGS:
        return "h2-settings"
    return "closed" if not data else "other"


def http(port: int, path: str = "/", method: str = "GET") -> str | int:
    try:
        with _connect(port) as s:
            s.sendall(
                f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
            )
            return _classify(_read_some(s), h2=False)
    except OSError as e:
        return type(e).__name__


def h2c(port: int) -> str | int:
    try:
        with _connect(port) as s:
            s.sendall(PREFACE)
            return _classify(_read_some(s), h2=True)
    except OSError as e:
        return type(e).__name__


def h2c_unix(path: str) -> str | int:
    """``h2c`` on a unix socket; the error's name if it cannot even connect."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(3)
            s.connect(path)
            s.sendall(PREFACE)
            return _classify(_read_some(s), h2=True)
    except OSError as e:
        return type(e).__name__


def _tls(port: int, payload: bytes, alpn: str, cert: tuple[str, str] | None, h2: bool):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # an attacker does not care who the server is
    ctx.set_alpn_protocols([alpn])
    if cert:
        ctx.load_cert_chain(*cert)
    try:
        with _connect(port) as raw, ctx.wrap_socket(raw) as s:
            s.sendall(payload)
            data = _read_some(s)
    except (ssl.SSLError, OSError):
        return "tls-refused"
    result = _classify(data, h2)
    return "tls-refused" if result == "closed" else result


def tls_http(port: int, path: str = "/", cert: tuple[str, str] | None = None) -> str | int:
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
    return _tls(port, request, "http/1.1", cert, h2=False)


def tls_h2(port: int, cert: tuple[str, str] | None = None) -> str | int:
    return _tls(port, PREFACE, "h2", cert, h2=True)


def knock(port: int, cert: tuple[str, str] | None = None) -> dict[str, str | int]:
    """Every probe on one port."""
    return {
        "http": http(port),
        "h2c": h2c(port),
        "tls_http": tls_http(port, cert=cert),
        "tls_h2": tls_h2(port, cert=cert),
    }
