"""The API edge under what users and tools actually send: many requests at once, bodies that are
too deep, too big or not JSON, methods a route does not have."""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

pytestmark = pytest.mark.e2e

PARALLEL = 16


@pytest.fixture(scope="module")
def session(stack: dict[str, str]) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {stack['token']}"
    adapter = requests.adapters.HTTPAdapter(pool_connections=PARALLEL, pool_maxsize=PARALLEL)
    session.mount("http://", adapter)
    return session


def create_project(session: requests.Session, api: str, name: str) -> dict[str, Any]:
    answer = session.post(f"{api}/projects", json={"name": name, "timezone": "Europe/Moscow"}, timeout=60)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def test_parallel_reads_each_get_their_own_answer(stack: dict[str, str], session: requests.Session) -> None:
    api = stack["api"]
    projects = [create_project(session, api, f"own-answer-{index}") for index in range(10)]
    wanted = [projects[index % len(projects)] for index in range(200)]

    def read(project: dict[str, Any]) -> tuple[dict[str, Any], int, Any]:
        answer = session.get(f"{api}/projects/{project['id']}", timeout=60)
        return project, answer.status_code, answer.json()

    with ThreadPoolExecutor(PARALLEL) as pool:
        results = list(pool.map(read, wanted))

    foreign = [(project["id"], status, body) for project, status, body in results if body != project]
    assert foreign == [], f"{len(foreign)} of {len(results)} answers were not their own: {foreign[:3]}"


def test_parallel_creates_make_exactly_one_row_each(stack: dict[str, str], session: requests.Session) -> None:
    api = stack["api"]
    prefix = f"parallel-{uuid.uuid4().hex[:8]}-"
    names = [f"{prefix}{index}" for index in range(100)]
    with ThreadPoolExecutor(PARALLEL) as pool:
        created = list(pool.map(lambda name: create_project(session, api, name), names))

    assert sorted(project["name"] for project in created) == sorted(names)
    listed = session.get(f"{api}/projects", timeout=60).json()
    mine = [project["name"] for project in listed if project["name"].startswith(prefix)]
    assert len(mine) == len(names)
    assert sorted(mine) == sorted(names)


def assert_problem(answer: requests.Response, status: int) -> dict[str, Any]:
    """Every refusal has the one error shape: {"error", "message", ...} as JSON."""
    assert answer.status_code == status, answer.text
    assert answer.headers["Content-Type"].startswith("application/json")
    body = dict(answer.json())
    assert isinstance(body["error"], str)
    assert isinstance(body["message"], str)
    return body


def test_deeply_nested_json_is_refused(stack: dict[str, str], session: requests.Session) -> None:
    for depth in (1000, 100_000):
        body = "[" * depth + "]" * depth
        answer = session.post(
            f"{stack['api']}/projects", data=body, headers={"Content-Type": "application/json"}, timeout=60
        )
        assert "nested" in assert_problem(answer, 400)["message"]


def test_a_body_that_is_not_json_is_refused_with_400_even_where_the_route_reads_it_itself(
    stack: dict[str, str], session: requests.Session
) -> None:
    project = create_project(session, stack["api"], "not-json-probe")
    for path in ("/projects", f"/projects/{project['id']}", "/connectors/any/static-channels/import"):
        method = "PATCH" if path.startswith("/projects/") else "POST"
        answer = session.request(
            method, f"{stack['api']}{path}", data=b"\x00", headers={"Content-Type": "application/json"}, timeout=60
        )
        assert assert_problem(answer, 400)["message"] == "the body is not valid JSON"


def test_a_huge_body_is_refused_with_413(stack: dict[str, str], session: requests.Session) -> None:
    huge = json.dumps({"name": "x" * (2 * 1024 * 1024), "timezone": "Europe/Moscow"})
    answer = session.post(
        f"{stack['api']}/projects", data=huge, headers={"Content-Type": "application/json"}, timeout=60
    )
    assert_problem(answer, 413)


def test_a_form_encoded_body_is_refused_with_415(stack: dict[str, str], session: requests.Session) -> None:
    # what `curl -d '{"name": ...}'` sends without -H 'Content-Type: application/json'
    curl_default = {"Content-Type": "application/x-www-form-urlencoded"}
    body = '{"name":"Shop","timezone":"Europe/Moscow"}'
    answer = session.post(f"{stack['api']}/projects", data=body, headers=curl_default, timeout=60)
    assert "application/json" in assert_problem(answer, 415)["message"]


@pytest.mark.parametrize("method", ["PUT", "DELETE", "TRACE", "CONNECT", "BREW"])
def test_an_unknown_method_on_a_route_is_405_with_allow(
    stack: dict[str, str], session: requests.Session, method: str
) -> None:
    project = create_project(session, stack["api"], "method-probe")
    answer = session.request(method, f"{stack['api']}/projects/{project['id']}", timeout=60)
    assert_problem(answer, 405)
    assert set(answer.headers["Allow"].split(", ")) == {"GET", "PATCH"}


def test_an_unknown_method_on_a_public_route_is_405(stack: dict[str, str]) -> None:
    answer = requests.put(f"{stack['api']}/health", timeout=60)
    assert_problem(answer, 405)
    assert answer.headers["Allow"] == "GET"


def test_a_caller_without_a_token_learns_nothing_about_methods(stack: dict[str, str]) -> None:
    answer = requests.put(f"{stack['api']}/projects", timeout=60)
    assert_problem(answer, 401)
    assert "Allow" not in answer.headers


def test_every_answer_names_its_request(stack: dict[str, str], session: requests.Session) -> None:
    first = session.get(f"{stack['api']}/projects", timeout=60)
    second = session.get(f"{stack['api']}/projects", timeout=60)
    assert first.headers["apigw-requestid"] != second.headers["apigw-requestid"]
