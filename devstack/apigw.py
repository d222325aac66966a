"""A local stand-in for API Gateway: HTTP requests in, the Lambda handler's answers out.

The same handler module that runs in Lambda answers here, through events shaped like API
Gateway's HTTP API payload 2.0, so routing, validation and error mapping are the deployed ones.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from devstack.lambda_runtime import LocalContext, http_api_event

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


class LocalHttpApi:
    def __init__(self, handler: Handler, *, host: str = "127.0.0.1", port: int = 8080) -> None:
        self._handler = handler
        self._address = (host, port)
        self._server: ThreadingHTTPServer | None = None
        self.base_url = ""

    def invoke(self, method: str, target: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
        parts = urlsplit(target)
        event = http_api_event(method, parts.path, parts.query, headers, body)
        return self._handler(event, LocalContext(function_name="leadhub-api"))

    def start(self) -> str:
        api = self

        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # without it every answer waits ~40 ms for the client's delayed ACK (Nagle)
            disable_nagle_algorithm = True

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                try:
                    answer = api.invoke(self.command, self.path, dict(self.headers.items()), body)
                except Exception:  # what API Gateway does when the integration fails
                    answer = {
                        "statusCode": 500,
                        "headers": {"Content-Type": "application/json"},
                        "body": '{"message":"Internal Server Error"}',
                    }
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

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

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
