"""A small HTTP/1.1 proxy on 127.0.0.1 that sits between the S3 client and the real server,
records every request, and injects faults: connection resets, stalls, truncated responses, and
flipped bytes in request bodies. Request loops are bounded by the client; the proxy only relays.
"""

from __future__ import annotations

import contextlib
import random
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

FAULTS = ("reset", "stall", "truncate", "flip")
# "cut_meta": the response ends in the middle of the x-amz-meta-sha256 header's value, the
# connection closes (what "truncate" does when its half-way point falls there); "503": the
# proxy answers 503 ServiceUnavailable itself, keeping the connection. Neither is random.
_ERROR_XML = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>ServiceUnavailable</Code>'
    b"<Message>Please reduce your request rate.</Message></Error>"
)
SERVICE_UNAVAILABLE = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/xml\r\n"
    b"Content-Length: %d\r\n\r\n" % len(_ERROR_XML)
) + _ERROR_XML


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    body_len: int
    fault: str | None = None
    status: int | None = None
    agent: str = ""  # User-Agent: boto3's, or the uploader's direct path
    at: float = field(default_factory=time.monotonic)

    @property
    def part_number(self) -> int | None:
        v = self.query.get("partNumber")
        return int(v[0]) if v else None

    @property
    def upload_id(self) -> str | None:
        v = self.query.get("uploadId")
        return v[0] if v else None


def _read_until(sock: socket.socket, buf: bytearray, marker: bytes) -> bytes | None:
    while marker not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        buf += chunk
    i = buf.index(marker) + len(marker)
    head = bytes(buf[:i])
    del buf[:i]
    return head


def _read_exact(sock: socket.socket, buf: bytearray, n: int) -> bytes | None:
    while len(buf) < n:
        chunk = sock.recv(max(65536, n - len(buf)))
        if not chunk:
            return None
        buf += chunk
    data = bytes(buf[:n])
    del buf[:n]
    return data


def _headers(head: bytes) -> tuple[str, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    hdrs = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            hdrs[k.strip().lower()] = v.strip()
    return lines[0], hdrs


def _read_body(sock: socket.socket, buf: bytearray, hdrs: dict[str, str], no_body: bool):
    if no_body:
        return b""
    if hdrs.get("transfer-encoding", "").lower() == "chunked":
        out = b""
        while True:
            size_line = _read_until(sock, buf, b"\r\n")
            if size_line is None:
                return None
            out += size_line
            n = int(size_line.split(b";")[0].strip(), 16)
            rest = _read_exact(sock, buf, n + 2)
            if rest is None:
                return None
            out += rest
            if n == 0:
                return out
    n = int(hdrs.get("content-length", "0") or 0)
    return _read_exact(sock, buf, n)


class FaultProxy:
    """Relay to ``127.0.0.1:upstream_port``. ``decide(request, index)`` returns a fault name or
    None; ``rate``-based random faults (seeded) are the default."""

    def __init__(
        self,
        upstream_port: int,
        rates: dict[str, float] | None = None,
        seed: int = 1,
        stall_seconds: float = 3.0,
        decide: Callable[[Request, int], str | None] | None = None,
    ) -> None:
        self.upstream_port = upstream_port
        self.rates = rates or {}
        self.rng = random.Random(seed)
        self.stall_seconds = stall_seconds
        self.decide = decide or self._random_fault
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._conns: set[socket.socket] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _random_fault(self, req: Request, index: int) -> str | None:
        r = self.rng.random()
        acc = 0.0
        for name in FAULTS:
            acc += self.rates.get(name, 0.0)
            if r < acc:
                if name == "flip" and req.body_len == 0:
                    return None
                return name
        return None

    def start(self) -> FaultProxy:
        self._sock.listen(64)
        self._sock.settimeout(0.2)
        t = threading.Thread(target=self._accept_loop, name="faultproxy", daemon=True)
        t.start()
        self._threads.append(t)
        return self

    def stop(self) -> None:
        self._stop.set()
        self._sock.close()
        with self._lock:
            for c in list(self._conns):
                with contextlib.suppress(OSError):
                    c.shutdown(socket.SHUT_RDWR)
                c.close()
        for t in self._threads:
            t.join(5)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._sock.accept()
            except (TimeoutError, OSError):
                continue
            t = threading.Thread(target=self._serve, args=(client,), daemon=True)
            t.start()
            self._threads.append(t)

    def _serve(self, client: socket.socket) -> None:
        upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=30)
        with self._lock:
            self._conns |= {client, upstream}
        cbuf, ubuf = bytearray(), bytearray()
        try:
            while not self._stop.is_set():
                head = _read_until(client, cbuf, b"\r\n\r\n")
                if head is None:
                    return
                line, hdrs = _headers(head)
                method, target, _ = line.split(" ", 2)
                if hdrs.get("expect", "").lower() == "100-continue":
                    client.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
                    head = b"\r\n".join(
                        h for h in head.split(b"\r\n") if not h.lower().startswith(b"expect:")
                    )
                body = _read_body(client, cbuf, hdrs, no_body=False)
                if body is None:
                    return
                url = urlsplit(target)
                req = Request(method, url.path, parse_qs(url.query), len(body))
                req.agent = hdrs.get("user-agent", "")
                with self._lock:
                    index = len(self.requests)
                    self.requests.append(req)
                req.fault = self.decide(req, index)
                if req.fault == "reset":
                    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    return
                if req.fault == "stall":
                    self._stop.wait(self.stall_seconds)
                    return
                if req.fault == "503":  # answered here; the server never sees it
                    req.status = 503
                    client.sendall(SERVICE_UNAVAILABLE)
                    continue
                if req.fault == "flip" and body:
                    b = bytearray(body)
                    b[len(b) // 2] ^= 0xFF
                    body = bytes(b)
                upstream.sendall(head + body)
                rhead = _read_until(upstream, ubuf, b"\r\n\r\n")
                if rhead is None:
                    return
                status_line, rhdrs = _headers(rhead)
                req.status = int(status_line.split(" ")[1])
                rbody = _read_body(upstream, ubuf, rhdrs, no_body=method == "HEAD")
                if rbody is None:
                    return
                response = rhead + rbody
                if req.fault == "truncate":
                    client.sendall(response[: max(1, len(response) // 2)])
                    return
                if (
                    req.fault == "cut_meta"
                    and (at := response.lower().find(b"x-amz-meta-sha256:")) > 0
                ):
                    client.sendall(response[: at + len(b"x-amz-meta-sha256: ") + 20])
                    return
                client.sendall(response)
                if rhdrs.get("connection", "").lower() == "close":
                    return
        except OSError:
            return
        finally:
            with self._lock:
                self._conns -= {client, upstream}
            client.close()
            upstream.close()

    # -- what the tests look at -----------------------------------------------------------
    def parts_sent(self, since: int = 0) -> list[Request]:
        """UploadPart requests (PUT with partNumber) from request index ``since`` on."""
        with self._lock:
            reqs = self.requests[since:]
        return [r for r in reqs if r.method == "PUT" and r.part_number is not None]

    def count(self) -> int:
        with self._lock:
            return len(self.requests)
