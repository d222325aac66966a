"""The shared transport against a real HTTP server: retries, Retry-After, timeouts, garbage, secrets."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from leadhub.vendors import errors
from leadhub.vendors.ratelimit import Rate
from leadhub.vendors.transport import RetryPolicy, Transport, VendorPolicy
from simulators.base import Simulator, json_response

SECRET = "transport-Secret-4242"


class Recorder:
    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def server() -> Iterator[Simulator]:
    simulator = Simulator()
    simulator.route("GET", "/items", lambda request: json_response({"items": [1, 2, 3]}))
    simulator.route("GET", "/echo-key", lambda request: json_response({"error": f"bad key {SECRET}"}, status=401))
    with simulator:
        simulator.faults.timeout_seconds = 1.0
        yield simulator


def transport(server: Simulator, sleep: Recorder, **retry: float) -> Transport:
    policy = VendorPolicy("acme", read_timeout=0.3, retry=RetryPolicy(**retry))  # type: ignore[arg-type]
    return Transport(policy, server.base_url, credentials=[SECRET], sleep=sleep, jitter=lambda: 1.0)


def test_a_plain_success(server: Simulator) -> None:
    assert transport(server, Recorder()).get_json("/items") == {"items": [1, 2, 3]}


def test_429_with_retry_after_waits_that_long(server: Simulator) -> None:
    sleep = Recorder()
    server.set_faults(retry_after=2)
    server.inject("429")
    assert transport(server, sleep).get_json("/items")["items"] == [1, 2, 3]
    assert sleep.delays == [2.0]


def test_429_without_retry_after_backs_off_exponentially(server: Simulator) -> None:
    sleep = Recorder()
    server.inject("429-no-retry-after", "429-no-retry-after", "500")
    assert transport(server, sleep, backoff_base=0.5).get_json("/items")["items"] == [1, 2, 3]
    assert sleep.delays == [0.5, 1.0, 2.0]


def test_retries_are_bounded(server: Simulator) -> None:
    sleep = Recorder()
    server.inject(*["503"] * 5)
    with pytest.raises(errors.ServerError):
        transport(server, sleep, max_attempts=3).get_json("/items")
    assert len(sleep.delays) == 2


def test_a_retry_after_longer_than_a_run_can_wait_is_raised_not_slept(server: Simulator) -> None:
    sleep = Recorder()
    server.set_faults(retry_after=600)
    server.inject("429")
    with pytest.raises(errors.RateLimited) as raised:
        transport(server, sleep).get_json("/items")
    assert raised.value.retry_after == 600
    assert sleep.delays == []


def test_a_client_side_limit_used_up_for_longer_than_a_run_can_wait_is_raised_not_slept(server: Simulator) -> None:
    hourly = VendorPolicy("acme-hourly", rates=(Rate(1, 3600.0),), read_timeout=0.3)
    client = Transport(hourly, server.base_url, credentials=[SECRET + "-hourly"])
    assert client.get_json("/items")["items"] == [1, 2, 3]
    started = time.monotonic()
    with pytest.raises(errors.RateLimited) as raised:
        client.get_json("/items")
    assert time.monotonic() - started < 5  # raised at once, not slept through
    assert raised.value.retry_after is not None and 3500 < raised.value.retry_after <= 3600
    assert "1 requests per 3600 s" in str(raised.value)
    assert server.request_counts.get("/items") == 1  # the vendor never saw the refused one


def test_a_timeout_is_retried_then_classified(server: Simulator) -> None:
    sleep = Recorder()
    server.inject("timeout")
    assert transport(server, sleep).get_json("/items")["items"] == [1, 2, 3]
    server.inject("timeout", "timeout")
    with pytest.raises(errors.VendorTimeout):
        transport(server, sleep, max_attempts=2).get_json("/items")


def test_garbage_is_reread_then_reported_as_malformed(server: Simulator) -> None:
    server.inject("malformed")
    assert transport(server, Recorder()).get_json("/items")["items"] == [1, 2, 3]
    server.inject("html", "malformed")
    with pytest.raises(errors.MalformedResponse):
        transport(server, Recorder(), max_attempts=2).get_json("/items")


def test_an_unreachable_vendor_is_a_connection_failure() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    dead = Transport(VendorPolicy("acme", retry=RetryPolicy(max_attempts=1)), f"http://127.0.0.1:{port}")
    with pytest.raises(errors.ConnectionFailed):
        dead.get_json("/items")


def test_a_vendor_echoing_the_key_does_not_leak_it(server: Simulator, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(errors.InvalidCredentials) as raised:
        transport(server, Recorder()).get_json("/echo-key", params={"key": SECRET})
    assert SECRET not in str(raised.value)
    assert SECRET not in str(raised.value.to_dict())
    assert SECRET not in capsys.readouterr().out


def test_a_call_that_creates_something_is_not_repeated_after_a_timeout(server: Simulator) -> None:
    sleep = Recorder()
    server.route("POST", "/items", lambda request: json_response({"created": 1}))
    server.inject("timeout")
    with pytest.raises(errors.VendorTimeout):
        transport(server, sleep).request_json("POST", "/items", json_body={"x": 1}, idempotent=False)
    assert server.request_counts["/items"] == 1
    server.inject("429")
    _, body = transport(server, sleep).request_json("POST", "/items", json_body={"x": 1}, idempotent=False)
    assert body == {"created": 1}


def test_an_answer_cut_short_is_a_connection_failure_and_retried() -> None:
    """The body is read in one go, not by requests: an answer whose connection closes before the length it
    announced must still fail as requests fails it (a connection failure, retried), never parse as a page."""
    cut = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"items": [1,'
    whole = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 14\r\n\r\n{"items": [1]}'
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        answers = [cut, whole]

        def serve() -> None:
            for answer in answers:
                connection, _ = listener.accept()
                with connection:
                    connection.recv(65536)
                    connection.sendall(answer)

        server = threading.Thread(target=serve, daemon=True)
        server.start()
        policy = VendorPolicy("acme", read_timeout=5, retry=RetryPolicy(max_attempts=2))
        sleep = Recorder()
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        assert Transport(policy, url, sleep=sleep, jitter=lambda: 1.0).get_json("/items") == {"items": [1]}
        assert len(sleep.delays) == 1  # the cut answer failed and was retried
        server.join(timeout=5)
