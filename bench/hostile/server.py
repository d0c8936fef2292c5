"""A hostile target: a real Go service behind a proxy that misbehaves on purpose.

Every answer starts as the real one (the proxy forwards each GET to `--upstream`, a
running lab service), then the mode named in the path distorts it, so `watch`, `top`
and `goroutines` meet each way a dying or broken process answers while the data
underneath stays real:

    http://127.0.0.1:PORT/m/MODE/debug/pprof/heap   -> the upstream's heap, then MODE

Modes (issue 11):
  ok                 the upstream's answer, with Content-Length (the control)
  close-delimited    no Content-Length: the body is sent in pieces, then the socket closes
  chunked-odd        chunked with 1..7-byte chunks and chunk extensions
  truncated-gzip     the heap profile (binary or text form) cut in half (Content-Length of
                     the cut body)
  slow-body          headers at once, then the body at 200 bytes/s
  trickle-headers    one header byte every 0.3 s, forever
  nan-vars           /debug/vars with NaN in memstats
  inf-vars           /debug/vars with Infinity and 1e400
  nested-vars        /debug/vars nested 100,000 deep
  huge-digits        goroutine debug=1 total with 5,000 digits
  garbage            random bytes with 200 OK on every endpoint
  reset              the connection closed without an answer
  short-body         Content-Length larger than the body, then close
  restart-metrics    /metrics whose process_start_time_seconds changes every scrape
  redirect-offhost   302 to the same port on `localhost` (another host name)
  redirect-samehost  302 to the `ok` mode on this host

    python bench/hostile/server.py --upstream http://127.0.0.1:6060 [--port 0]

prints `listening on http://127.0.0.1:PORT` once ready (as the lab services do).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import socket
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

UPSTREAM = ""
_LOCK = threading.Lock()
_CACHE: dict[str, tuple[float, int, bytes]] = {}


def upstream(path: str) -> tuple[int, bytes]:
    """The real answer (cached 0.2 s, so many hostile targets cost one upstream scrape)."""
    now = time.monotonic()
    with _LOCK:
        hit = _CACHE.get(path)
        if hit and now - hit[0] < 0.2:
            return hit[1], hit[2]
    try:
        with urllib.request.urlopen(UPSTREAM + path, timeout=10) as r:
            status, body = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, body = e.code, e.read()
    with _LOCK:
        _CACHE[path] = (now, status, body)
    return status, body


class Hostile(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    # -- helpers -------------------------------------------------------------------

    def _send(self, status: int, body: bytes, *, ctype: str = "application/octet-stream",
              length: int | None = None, close: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        if close:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()
        if close:
            self.close_connection = True

    def _raw(self, data: bytes) -> None:
        self.wfile.write(data)
        self.wfile.flush()

    # -- dispatch ------------------------------------------------------------------

    def do_GET(self) -> None:
        parts = self.path.split("/", 3)
        if len(parts) < 3 or parts[1] != "m":
            self._send(404, b"use /m/MODE/...\n")
            return
        mode = parts[2]
        rest = "/" + (parts[3] if len(parts) > 3 else "")
        handler = getattr(self, "mode_" + mode.replace("-", "_"), None)
        if handler is None:
            self._send(404, f"unknown mode {mode}\n".encode())
            return
        try:
            handler(rest)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def mode_ok(self, rest: str) -> None:
        status, body = upstream(rest)
        self._send(status, body)

    def mode_close_delimited(self, rest: str) -> None:
        status, body = upstream(rest)
        self._raw(f"HTTP/1.1 {status} OK\r\nContent-Type: application/octet-stream\r\n\r\n".encode())
        third = max(1, len(body) // 3)
        for i in range(0, len(body), third):
            self._raw(body[i : i + third])
            time.sleep(0.05)
        self.close_connection = True

    def mode_chunked_odd(self, rest: str) -> None:
        status, body = upstream(rest)
        self._raw(f"HTTP/1.1 {status} OK\r\nTransfer-Encoding: chunked\r\n\r\n".encode())
        i, rnd = 0, random.Random(len(body))
        while i < len(body):
            n = rnd.randint(1, 7)
            piece = body[i : i + n]
            self._raw(f"{len(piece):x};ext=1\r\n".encode() + piece + b"\r\n")
            i += n
        self._raw(b"0\r\nX-Trailer: 1\r\n\r\n")

    def mode_truncated_gzip(self, rest: str) -> None:
        status, body = upstream(rest)
        if body[:2] == b"\x1f\x8b" or body.lstrip().startswith(b"heap profile:"):
            body = body[: len(body) // 2]
        self._send(status, body)

    def mode_slow_body(self, rest: str) -> None:
        status, body = upstream(rest)
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        for i in range(0, len(body), 20):
            self._raw(body[i : i + 20])
            time.sleep(0.1)

    def mode_trickle_headers(self, rest: str) -> None:
        line = b"HTTP/1.1 200 OK\r\n"
        for b in line:
            self._raw(bytes([b]))
            time.sleep(0.3)
        while True:
            self._raw(b"X")
            time.sleep(0.3)

    def _vars(self, rest: str, doctor: object) -> None:
        status, body = upstream(rest)
        if rest.startswith("/debug/vars"):
            doctored = doctor(body)  # type: ignore[operator]
            if doctored == body:  # the upstream's format changed: say so, loudly
                self._send(500, b"hostile: mode did not apply to this body\n")
                return
            body = doctored
        self._send(status, body)

    def mode_nan_vars(self, rest: str) -> None:
        self._vars(rest, lambda b: b.replace(b'"HeapAlloc":', b'"HeapAlloc": NaN, "x":', 1))

    def mode_inf_vars(self, rest: str) -> None:
        self._vars(rest, lambda b: b.replace(b'"HeapAlloc":', b'"HeapAlloc": Infinity, "Sys": 1e400, "x":', 1))

    def mode_nested_vars(self, rest: str) -> None:
        self._vars(rest, lambda b: b'{"memstats": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")

    def mode_huge_digits(self, rest: str) -> None:
        status, body = upstream(rest)
        if "debug=1" in rest:
            body = b"goroutine profile: total " + b"9" * 5000 + b"\n" + body.split(b"\n", 1)[-1]
        self._send(status, body)

    def mode_garbage_stacks(self, rest: str) -> None:
        """Everything as upstream but the full goroutine dump (`?debug=2`): random bytes."""
        if "debug=2" in rest:
            self._send(200, os.urandom(4096))
            return
        self.mode_ok(rest)

    def mode_garbage(self, rest: str) -> None:
        self._send(200, os.urandom(4096))

    def mode_reset(self, rest: str) -> None:
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        self.close_connection = True

    def mode_short_body(self, rest: str) -> None:
        status, body = upstream(rest)
        self._send(status, body[: len(body) // 2], length=len(body), close=True)

    def mode_restart_metrics(self, rest: str) -> None:
        if rest.startswith("/metrics"):
            now = time.time()
            text = (
                "# TYPE process_start_time_seconds gauge\n"
                f"process_start_time_seconds {now:.3f}\n"
                f"go_goroutines {threading.active_count()}\n"
            )
            self._send(200, text.encode(), ctype="text/plain; version=0.0.4")
            return
        self.mode_ok(rest)

    def mode_redirect_offhost(self, rest: str) -> None:
        port = self.server.server_address[1]
        self.send_response(302)
        self.send_header("Location", f"http://localhost:{port}/m/ok{rest}")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def mode_redirect_samehost(self, rest: str) -> None:
        self.send_response(302)
        self.send_header("Location", f"/m/ok{rest}")
        self.send_header("Content-Length", "0")
        self.end_headers()


def main() -> None:
    global UPSTREAM
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--upstream", required=True, help="base URL of a real lab service")
    ap.add_argument("--port", type=int, default=0)
    a = ap.parse_args()
    UPSTREAM = a.upstream.rstrip("/")
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Hostile)
    srv.daemon_threads = True
    print(f"listening on http://127.0.0.1:{srv.server_address[1]}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        srv.serve_forever(poll_interval=0.2)


if __name__ == "__main__":
    sys.exit(main())
