"""What every simulator shares: a threaded HTTP server on 127.0.0.1, request/response types,
fault knobs (error rate, latency, 429 bursts, malformed bodies, timeouts) and a control API.

Control API (every simulator): `GET /__sim__/health`, `POST /__sim__/faults` (a JSON object of
FaultKnobs fields; also `{"script": ["429", "500", ...]}` to queue exact faults),
`POST /__sim__/reset`, `GET /__sim__/requests` (how many requests each path got).
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

FAULT_KINDS = ("429", "429-no-retry-after", "500", "503", "timeout", "malformed", "html")


@dataclass
class SimRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    client_ip: str = "127.0.0.1"

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def header(self, name: str, default: str | None = None) -> str | None:
        lowered = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lowered:
                return value
        return default

    def json(self) -> Any:
        """The JSON body; raises ValueError on anything else."""
        if not self.body:
            raise ValueError("empty body")
        return json.loads(self.body.decode("utf-8"))


@dataclass
class SimResponse:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json; charset=utf-8"
    delay: float = 0.0
    #: As `json.dumps` takes them; None: Python's default (a space after each).
    separators: tuple[str, str] | None = None

    def encoded(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode("utf-8")
        return json.dumps(self.body, ensure_ascii=False, separators=self.separators).encode("utf-8")


def json_response(body: Any, status: int = 200, **headers: str) -> SimResponse:
    return SimResponse(status=status, body=body, headers=dict(headers))


def text_response(body: str, status: int, content_type: str = "text/plain; charset=utf-8") -> SimResponse:
    return SimResponse(status=status, body=body, content_type=content_type)


@dataclass
class FaultKnobs:
    #: Share of vendor requests that fail with a 500-class error (seeded, so reproducible).
    error_rate: float = 0.0
    #: Seconds added to every vendor answer.
    latency: float = 0.0
    #: How long a "timeout" fault holds the answer (longer than the client's read timeout).
    timeout_seconds: float = 3.0
    #: Share of answers replaced by a garbled body.
    malformed_rate: float = 0.0
    #: Retry-After (seconds) sent with 429s; None sends none.
    retry_after: float | None = 1.0
    #: Exact faults for the next requests, in order (see FAULT_KINDS).
    script: list[str] = field(default_factory=list)


Route = tuple[str, "re.Pattern[str]", Callable[..., SimResponse]]


class Simulator:
    """A vendor API on a real socket. Subclasses add routes with `route()` and may override
    `fault_response` to dress a fault the way their vendor does."""

    name = "vendor"

    def __init__(self, *, seed: int = 42, faults: FaultKnobs | None = None) -> None:
        self.seed = seed
        self.faults = faults or FaultKnobs()
        self._fault_rng = random.Random(seed ^ 0x5EED)
        self._script: deque[str] = deque(self.faults.script)
        self._routes: list[Route] = []
        self._lock = threading.RLock()
        self.request_counts: Counter[str] = Counter()
        #: Rows answered per path (list endpoints count theirs): what a client downloaded, for measuring.
        self.rows_served: Counter[str] = Counter()
        #: Requests refused for a rate limit, per limit: what a client's limiter failed to keep.
        self.refused: Counter[str] = Counter()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    # --- routing -------------------------------------------------------------------------------
    def route(self, method: str, pattern: str, handler: Callable[..., SimResponse]) -> None:
        self._routes.append((method.upper(), re.compile(f"^{pattern}$"), handler))

    def dispatch(self, request: SimRequest) -> SimResponse:
        if request.path.startswith("/__sim__/"):
            return self._control(request)
        with self._lock:
            self.request_counts[request.path] += 1
        fault = self._next_fault()
        response = self.fault_response(fault, request) if fault is not None else self._route(request)
        response.delay += self.faults.latency
        return response

    def _route(self, request: SimRequest) -> SimResponse:
        allowed = False
        for method, pattern, handler in self._routes:
            match = pattern.match(request.path)
            if match is None:
                continue
            allowed = True
            if method == request.method:
                return handler(request, **match.groupdict())
        if allowed:
            return self.not_found(request, status=405)
        return self.not_found(request)

    def not_found(self, request: SimRequest, status: int = 404) -> SimResponse:
        return json_response({"error": "not found", "path": request.path}, status=status)

    # --- faults --------------------------------------------------------------------------------
    def _next_fault(self) -> str | None:
        with self._lock:
            if self._script:
                return self._script.popleft()
            roll = self._fault_rng.random()
            if roll < self.faults.error_rate:
                return "500"
            if roll < self.faults.error_rate + self.faults.malformed_rate:
                return "malformed"
        return None

    def fault_response(self, kind: str, request: SimRequest) -> SimResponse:
        """The answer for an injected fault. Vendors override the kinds they dress differently."""
        if kind in ("429", "429-no-retry-after"):
            headers = {}
            if kind == "429" and self.faults.retry_after is not None:
                headers["Retry-After"] = str(int(self.faults.retry_after))
            return SimResponse(429, {"error": "too many requests"}, headers)
        if kind == "timeout":
            # what a gateway answers once the upstream gave up; a client with a shorter read
            # timeout never sees it
            return SimResponse(
                504,
                "<html><body>504 Gateway Time-out</body></html>",
                content_type="text/html",
                delay=self.faults.timeout_seconds,
            )
        if kind == "malformed":
            return text_response('{"data": [{"id": "1", "trunc', 200, "application/json")
        if kind == "html":
            return text_response("<html><body><h1>502 Bad Gateway</h1></body></html>", 502, "text/html")
        status = int(kind) if kind.isdigit() else 500
        return json_response({"error": "internal error"}, status=status)

    def set_faults(self, **knobs: Any) -> None:
        """Change fault knobs at run time (also over HTTP: POST /__sim__/faults)."""
        known = {f.name for f in fields(FaultKnobs)}
        unknown = set(knobs) - known
        if unknown:
            raise ValueError(f"unknown fault knobs: {sorted(unknown)}")
        with self._lock:
            for name, value in knobs.items():
                setattr(self.faults, name, value)
            bad = [kind for kind in self.faults.script if kind not in FAULT_KINDS]
            if bad:
                raise ValueError(f"unknown fault kinds {bad}; known: {FAULT_KINDS}")
            self._script = deque(self.faults.script)
            self.faults.script = []

    def inject(self, *kinds: str) -> None:
        """Queue exact faults for the next requests."""
        self.set_faults(script=[*self._script, *kinds])

    def reset_faults(self) -> None:
        with self._lock:
            self.faults = FaultKnobs(timeout_seconds=self.faults.timeout_seconds)
            self._script.clear()
            self.request_counts.clear()
            self.rows_served.clear()
            self.refused.clear()

    def _control(self, request: SimRequest) -> SimResponse:
        action = request.path.removeprefix("/__sim__/")
        if action == "health":
            return json_response({"simulator": self.name, "status": "ok"})
        if action == "requests":
            return json_response(dict(self.request_counts))
        if action == "rows":
            return json_response(dict(self.rows_served))
        if action == "refused":
            return json_response(dict(self.refused))
        if action == "reset" and request.method == "POST":
            self.reset_faults()
            return json_response({"faults": asdict(self.faults)})
        if action == "faults" and request.method == "POST":
            try:
                self.set_faults(**request.json())
            except (ValueError, TypeError) as exc:
                return json_response({"error": str(exc)}, status=400)
            return json_response({"faults": asdict(self.faults), "queued": list(self._script)})
        return self.not_found(request)

    # --- server --------------------------------------------------------------------------------
    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        simulator = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # without it every answer waits ~40 ms for the client's delayed ACK (Nagle)
            disable_nagle_algorithm = True

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                request = SimRequest(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query, keep_blank_values=True),
                    headers={k: v for k, v in self.headers.items()},
                    body=body,
                    client_ip=str(self.client_address[0]),
                )
                try:
                    response = simulator.dispatch(request)
                except Exception as exc:  # a simulator bug must show, not hang the client
                    response = text_response(f"simulator error: {type(exc).__name__}: {exc}", 500)
                if response.delay:
                    time.sleep(response.delay)
                payload = response.encoded()
                try:
                    self.send_response(response.status)
                    if payload or response.status != 204:
                        self.send_header("Content-Type", response.content_type)
                    for name, value in response.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    if payload and self.command != "HEAD":
                        self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout fault): nothing to answer

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass  # request lines would carry query-string keys into test output

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"sim-{self.name}", daemon=True
        )
        self._thread.start()
        self.base_url = f"http://{host}:{self._server.server_port}"
        return self.base_url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Simulator:
        if not self.base_url:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class SlidingWindowLimit:
    """At most `count` hits per `period` seconds per key — how a vendor counts, server side."""

    def __init__(self, count: int, period: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.count = count
        self.period = period
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> float | None:
        """Record a hit; None if allowed, else the seconds until the next one would be."""
        with self._lock:
            now = self._clock()
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.period:
                hits.popleft()
            if len(hits) >= self.count:
                return hits[0] + self.period - now
            hits.append(now)
            return None
