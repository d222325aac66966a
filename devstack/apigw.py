"""A local stand-in for API Gateway: HTTP requests in, the Lambda handler's answers out.

The same handler module that runs in Lambda answers here, through events shaped like API
Gateway's HTTP API payload 2.0, so routing, validation and error mapping are the deployed ones.

One execution environment, one request at a time. Lambda never calls a handler while it is still
answering another event, and the handler relies on that: the Powertools resolver keeps the
current event on a class attribute, its routers are module-level singletons, and Logger keys and
Metrics are process-wide. In-process there can only be one copy of that module, so a "pool" of
environments would still share it; they would have to be processes, which the local runner for
`POST /connectors/{id}/sync` (a thread in this process) cannot reach. So the stand-in serialises
invocations: connections are still accepted and read in parallel, only the handler call waits for
the one environment — as a function with reserved concurrency 1 would.
"""

from __future__ import annotations

import base64
import json
import threading
import uuid
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from devstack.lambda_runtime import LocalContext, http_api_event
from leadhub.api.problems import problem_body
from leadhub.observability import logger

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]

#: API Gateway's own limit on a request body (HTTP APIs: 10 MB); above it the function never runs.
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024


def gateway_answer(status: HTTPStatus, message: str, request_id: str | None = None) -> dict[str, Any]:
    """An answer the gateway itself gives, in the API's error shape."""
    request_id = request_id or str(uuid.uuid4())
    return {
        "statusCode": status.value,
        "headers": {"Content-Type": "application/json", "apigw-requestid": request_id},
        "body": json.dumps(problem_body(status, message, request_id=request_id), separators=(",", ":")),
    }


class LocalHttpApi:
    def __init__(
        self, handler: Handler, *, host: str = "127.0.0.1", port: int = 8080, routes: dict[str, Handler] | None = None
    ) -> None:
        self._handler = handler
        #: Path prefixes another function answers (the template's more specific routes), each its own
        #: execution environment.
        self._routes = {prefix: (routed, threading.Lock()) for prefix, routed in (routes or {}).items()}
        self._address = (host, port)
        self._server: ThreadingHTTPServer | None = None
        self._environment = threading.Lock()
        self.base_url = ""

    def invoke(self, method: str, target: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
        parts = urlsplit(target)
        event = http_api_event(method, parts.path, parts.query, headers, body)
        return self.invoke_event(event)

    def invoke_event(self, event: dict[str, Any]) -> dict[str, Any]:
        request_id = str(event["requestContext"]["requestId"])
        handler, environment = self._handler, self._environment
        for prefix, (routed, lock) in self._routes.items():
            if str(event["rawPath"]).startswith(prefix):
                handler, environment = routed, lock
        try:
            with environment:
                answer = handler(event, LocalContext(function_name="leadhub-api"))
        except Exception:  # API Gateway answers 500 when the integration fails; we also say why in the log
            logger.exception("the API function failed", extra={"request_id": request_id})
            message = f"internal error; quote request id {request_id} when you report it"
            answer = gateway_answer(HTTPStatus.INTERNAL_SERVER_ERROR, message, request_id)
        # as API Gateway does: the id a user quotes, and the one in the logs
        answer.setdefault("headers", {})["apigw-requestid"] = request_id
        return answer

    def start(self) -> str:
        api = self

        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # without it every answer waits ~40 ms for the client's delayed ACK (Nagle)
            disable_nagle_algorithm = True

            def __getattr__(self, name: str) -> Any:
                # every method reaches the function, which says 405 and what is allowed (TRACE too)
                if name.startswith("do_"):
                    return self._serve
                raise AttributeError(name)

            def _serve(self) -> None:
                try:
                    length = int(self.headers.get("Content-Length") or 0)
                except ValueError:
                    length = -1
                if length < 0:
                    self.close_connection = True
                    answer = gateway_answer(HTTPStatus.BAD_REQUEST, "invalid Content-Length")
                elif length > MAX_PAYLOAD_BYTES:
                    self.close_connection = True  # the body stays unread
                    answer = gateway_answer(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "the body is too large")
                else:
                    body = self.rfile.read(length) if length else b""
                    answer = api.invoke(self.command, self.path, dict(self.headers.items()), body)
                self._send(answer)

            def _send(self, answer: dict[str, Any]) -> None:
                payload = answer.get("body") or ""
                data = base64.b64decode(payload) if answer.get("isBase64Encoded") else str(payload).encode()
                self.send_response(int(answer.get("statusCode", 200)))
                for name, value in (answer.get("headers") or {}).items():
                    if name.lower() != "content-length":
                        self.send_header(name, str(value))
                for cookie in answer.get("cookies") or []:
                    self.send_header("Set-Cookie", cookie)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # the handler logs each request itself, redacted

        self._server = ThreadingHTTPServer(self._address, RequestHandler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="local-http-api", daemon=True
        ).start()
        self.base_url = f"http://{self._address[0]}:{self._server.server_port}"
        return self.base_url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
