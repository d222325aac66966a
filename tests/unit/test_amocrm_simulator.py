"""AmoCrmSimulator on its own: the documented shapes and quirks (calltouch-amocrm.md Part B), over raw HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from simulators.amocrm import AmoCrmKnobs, AmoCrmSimulator

CLOCK_START = 1_750_000_000.0
# ../shared beside the repository root holds the vendor fixtures from public SDKs
FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "vendors" / "fixtures" / "amocrm"


def fixture_json(name: str) -> Any:
    path = FIXTURES / name
    if not path.exists():
        pytest.skip(f"vendor fixture {name} is not on this machine")
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def server() -> Iterator[AmoCrmSimulator]:
    simulator = AmoCrmSimulator(seed=5, knobs=AmoCrmKnobs(rate_limit=None), clock=lambda: CLOCK_START)
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture
def sim(server: AmoCrmSimulator) -> AmoCrmSimulator:
    server.reset_faults()
    server.reset_scenario()
    return server


def grant(sim: AmoCrmSimulator, **fields: str) -> requests.Response:
    body = {"client_id": sim.knobs.client_id, "client_secret": sim.knobs.client_secret, **fields}
    return requests.post(f"{sim.base_url}/oauth2/access_token", json=body, timeout=5)


def exchange(sim: AmoCrmSimulator, code: str | None = None) -> dict[str, Any]:
    response = grant(
        sim, grant_type="authorization_code", code=code or sim.issue_code(), redirect_uri=sim.knobs.redirect_uri
    )
    assert response.status_code == 200, response.text
    pair: dict[str, Any] = response.json()
    return pair


def refresh(sim: AmoCrmSimulator, refresh_token: str) -> requests.Response:
    return grant(sim, grant_type="refresh_token", refresh_token=refresh_token, redirect_uri=sim.knobs.redirect_uri)


class Api:
    def __init__(self, sim: AmoCrmSimulator, access_token: str) -> None:
        self.base = sim.base_url
        self.headers = {"Authorization": f"Bearer {access_token}"}

    def get(self, path: str, **params: Any) -> requests.Response:
        return requests.get(f"{self.base}{path}", params=params, headers=self.headers, timeout=5)

    def send(self, method: str, path: str, body: Any) -> requests.Response:
        return requests.request(method, f"{self.base}{path}", json=body, headers=self.headers, timeout=5)


@pytest.fixture
def api(sim: AmoCrmSimulator) -> Api:
    return Api(sim, exchange(sim)["access_token"])


# --- OAuth -------------------------------------------------------------------------------------------


def test_a_reused_refresh_token_gets_the_live_revoked_body(sim: AmoCrmSimulator) -> None:
    pair = exchange(sim)
    assert refresh(sim, pair["refresh_token"]).status_code == 200

    reused = refresh(sim, pair["refresh_token"])

    assert reused.status_code == 401
    assert reused.json() == fixture_json("issue123_oauth_401_token_revoked_live.json")


def test_refreshing_revokes_the_previous_access_token(sim: AmoCrmSimulator) -> None:
    pair = exchange(sim)
    renewed = refresh(sim, pair["refresh_token"]).json()

    assert Api(sim, pair["access_token"]).get("/api/v4/account").status_code == 401
    assert Api(sim, renewed["access_token"]).get("/api/v4/account").status_code == 200


def test_token_answer_and_expiry(sim: AmoCrmSimulator) -> None:
    pair = exchange(sim)
    api = Api(sim, pair["access_token"])

    assert (pair["token_type"], pair["expires_in"], pair["server_time"]) == ("Bearer", 86_400, int(CLOCK_START))
    assert pair["access_token"].count(".") == 2  # JWT-looking
    sim.advance(86_400)
    unauthorized = api.get("/api/v4/account")
    assert unauthorized.status_code == 401
    assert unauthorized.json()["detail"] == "Invalid user name or password"


def test_codes_expire_and_need_the_registered_redirect_uri(sim: AmoCrmSimulator) -> None:
    code = sim.issue_code()
    wrong_uri = grant(sim, grant_type="authorization_code", code=code, redirect_uri="https://elsewhere.example")
    assert wrong_uri.status_code == 401

    sim.advance(sim.knobs.code_ttl)
    expired = grant(sim, grant_type="authorization_code", code=code, redirect_uri=sim.knobs.redirect_uri)
    assert expired.status_code == 400
    assert expired.json()["hint"] == "Authorization code has expired"


def test_the_control_api_issues_codes_and_revokes_tokens(sim: AmoCrmSimulator) -> None:
    code = requests.post(f"{sim.base_url}/__sim__/amocrm/code", json={}, timeout=5).json()["code"]
    pair = exchange(sim, code)

    requests.post(f"{sim.base_url}/__sim__/amocrm/revoke", timeout=5).raise_for_status()

    assert Api(sim, pair["access_token"]).get("/api/v4/account").status_code == 401
    assert refresh(sim, pair["refresh_token"]).json()["hint"] == "Token has been revoked"


# --- collections ----------------------------------------------------------------------------------------


def test_pages_link_next_only_when_there_is_one_and_items_repeat_the_query(sim: AmoCrmSimulator, api: Api) -> None:
    first = api.get("/api/v4/leads", page=1, limit=250).json()
    last = api.get("/api/v4/leads", page=2, limit=250).json()
    beyond = api.get("/api/v4/leads", page=3, limit=250)

    assert first["_links"]["next"]["href"].endswith("/api/v4/leads?page=2&limit=250")
    assert "next" not in last["_links"]
    assert len(first["_embedded"]["leads"]) + len(last["_embedded"]["leads"]) == 300
    lead = last["_embedded"]["leads"][0]
    assert lead["_links"]["self"]["href"] == f"{sim.base_url}/api/v4/leads/{lead['id']}?page=2&limit=250"
    assert (beyond.status_code, beyond.content, beyond.headers.get("Content-Type")) == (204, b"", None)


def test_limit_defaults_to_50_and_is_clamped_to_250(api: Api) -> None:
    assert len(api.get("/api/v4/leads").json()["_embedded"]["leads"]) == 50
    assert len(api.get("/api/v4/leads", limit=1000).json()["_embedded"]["leads"]) == 250


def test_a_lead_has_the_live_shape(sim: AmoCrmSimulator, api: Api) -> None:
    live = fixture_json("mobilon_v4_get_leads_page1_live.json")["_embedded"]["leads"][0]
    (created,) = api.send("POST", "/api/v4/leads", [{"name": "Продать слона", "price": 1000}]).json()["_embedded"][
        "leads"
    ]

    lead = api.get(f"/api/v4/leads/{created['id']}").json()

    assert set(lead) == set(live)
    assert lead["custom_fields_values"] is None
    assert lead["_embedded"] == {"tags": [], "companies": []}
    assert lead["status_id"] == sim.crm.main_pipeline.first_open_status


def test_the_scenario_is_deterministic_per_seed() -> None:
    def first_page(seed: int) -> list[Any]:
        with AmoCrmSimulator(seed=seed, clock=lambda: CLOCK_START) as simulator:
            return (
                Api(simulator, exchange(simulator)["access_token"])
                .get("/api/v4/contacts")
                .json()["_embedded"]["contacts"]
            )

    def without_links(rows: list[Any]) -> str:
        return json.dumps([{k: v for k, v in row.items() if k not in ("_links", "_embedded")} for row in rows])

    assert without_links(first_page(3)) == without_links(first_page(3))
    assert without_links(first_page(3)) != without_links(first_page(4))


def test_scale_multiplies_rows_that_are_made_on_demand() -> None:
    with AmoCrmSimulator(scale=1000, knobs=AmoCrmKnobs(rate_limit=None)) as simulator:
        api = Api(simulator, exchange(simulator)["access_token"])
        last_page = api.get("/api/v4/leads", page=1200, limit=250).json()

        assert simulator.crm.counts["leads"] == 300_000
        assert len(last_page["_embedded"]["leads"]) == 250
        assert "next" not in last_page["_links"]
        assert simulator.crm.tables["leads"].written == {}


# --- writes ------------------------------------------------------------------------------------------------


def test_more_than_250_in_one_add_is_the_documented_422(api: Api) -> None:
    response = api.send("POST", "/api/v4/leads", [{"name": "x"}] * 251)

    assert response.status_code == 422
    assert response.json() == fixture_json("kommo_docs_v4_422_limit_250.json")


def test_validation_errors_have_the_live_shape(sim: AmoCrmSimulator, api: Api) -> None:
    live = fixture_json("issue115_v4_400_validation_errors_live.json")
    text_field = next(f for f in sim.crm.fields["leads"] if f.type == "text")
    body = [
        {"name": "ok"},
        {
            "price": "1000",
            "custom_fields_values": [{"field_id": text_field.id, "values": [{"value": "a", "enum_code": "WORK"}]}],
        },
    ]

    response = api.send("POST", "/api/v4/leads", body)

    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("application/problem+json")
    answer = response.json()
    assert {k: v for k, v in answer.items() if k != "validation-errors"} == {
        k: v for k, v in live.items() if k != "validation-errors"
    }
    assert answer["validation-errors"] == [
        {
            "request_id": "1",
            "errors": [
                {"code": "InvalidType", "path": "price", "detail": "This value should be of type int."},
                {
                    "code": "FieldNotExpected",
                    "path": "custom_fields_values.0.values.0.enum_code",
                    "detail": "This field was not expected.",
                },
            ],
        }
    ]


def test_a_full_tag_list_wins_over_tags_to_add(api: Api) -> None:
    body = [{"name": "x", "_embedded": {"tags": [{"name": "a"}]}, "tags_to_add": [{"name": "b"}]}]
    (created,) = api.send("POST", "/api/v4/leads", body).json()["_embedded"]["leads"]

    api.send("PATCH", "/api/v4/leads", [{"id": created["id"], "tags_to_add": [{"name": "c"}]}])

    tags = api.get(f"/api/v4/leads/{created['id']}").json()["_embedded"]["tags"]
    assert [tag["name"] for tag in tags] == ["a", "c"]


def test_date_fields_come_back_as_midnight_in_the_account_time_zone(sim: AmoCrmSimulator, api: Api) -> None:
    date_field = next(f for f in sim.crm.fields["leads"] if f.type == "date")
    body = [{"custom_fields_values": [{"field_id": date_field.id, "values": [{"value": 1634601600}]}]}]
    (created,) = api.send("POST", "/api/v4/leads", body).json()["_embedded"]["leads"]

    values = api.get(f"/api/v4/leads/{created['id']}").json()["custom_fields_values"]

    assert values[0]["values"] == [{"value": 1634590800}]  # amocrm-api-php#402


def test_complex_add_answers_a_bare_array_and_takes_50(api: Api) -> None:
    contact = {"first_name": "Ян", "custom_fields_values": [{"field_code": "EMAIL", "values": [{"value": "jan@x.ru"}]}]}

    saved = api.send(
        "POST", "/api/v4/leads/complex", [{"name": "c", "request_id": "r1", "_embedded": {"contacts": [contact]}}]
    )
    too_many = api.send("POST", "/api/v4/leads/complex", [{"name": "c"}] * 51)

    (result,) = saved.json()
    assert set(result) == set(fixture_json("softcultura_v4_post_leads_complex_live.json")[0])
    assert (result["request_id"], result["merged"], result["company_id"]) == (["r1"], False, None)
    assert too_many.status_code == 422


def test_the_first_linked_contact_becomes_the_main_one(sim: AmoCrmSimulator, api: Api) -> None:
    contact_id = sim.crm.tables["contacts"].first_id
    (created,) = api.send("POST", "/api/v4/leads", [{"_embedded": {"contacts": [{"id": contact_id}]}}]).json()[
        "_embedded"
    ]["leads"]

    lead = api.get(f"/api/v4/leads/{created['id']}", **{"with": "contacts"}).json()
    contact = api.get(f"/api/v4/contacts/{contact_id}", **{"with": "leads"}).json()

    assert [(c["id"], c["is_main"]) for c in lead["_embedded"]["contacts"]] == [(contact_id, True)]
    assert created["id"] in [linked["id"] for linked in contact["_embedded"]["leads"]]


# --- search --------------------------------------------------------------------------------------------------


def test_phone_search_matches_digits_across_formats(sim: AmoCrmSimulator, api: Api) -> None:
    phones = ["+7 (916) 555-12-34", "89165551234", "+79165551234"]
    api.send(
        "POST",
        "/api/v4/contacts",
        [{"name": p, "custom_fields_values": [{"field_code": "PHONE", "values": [{"value": p}]}]} for p in phones],
    )

    def hits(query: str) -> int:
        response = api.get("/api/v4/contacts", query=query)
        return 0 if response.status_code == 204 else len(response.json()["_embedded"]["contacts"])

    assert hits("9165551234") == 3  # without the country code every format matches (E1)
    assert hits("+79165551234") == 2  # "+7…" misses "8…"


def test_lead_search_does_not_go_through_contacts_unless_told(sim: AmoCrmSimulator, api: Api) -> None:
    email = sim.crm.contact_email(0)

    assert api.get("/api/v4/leads", query=email).status_code == 204
    sim.configure(lead_query_through_contacts=True)
    assert api.get("/api/v4/leads", query=email).status_code == 200


# --- limits ------------------------------------------------------------------------------------------------------


def test_over_the_rate_the_gateway_answers_html_429_without_retry_after(sim: AmoCrmSimulator, api: Api) -> None:
    sim.configure(rate_limit=2)

    statuses = [api.get("/api/v4/account") for _ in range(3)]

    assert [r.status_code for r in statuses] == [200, 200, 429]
    assert statuses[2].headers["Content-Type"] == "text/html"
    assert "Retry-After" not in statuses[2].headers


def test_the_json_429_is_the_documented_body(sim: AmoCrmSimulator, api: Api) -> None:
    sim.configure(rate_limit_body="json")
    sim.inject("429-no-retry-after")

    response = api.get("/api/v4/account")

    assert response.status_code == 429
    assert response.json() == fixture_json("kommo_docs_v4_429_too_many_requests.json")


def test_repeated_429s_block_the_ip_until_support_unblocks_it(sim: AmoCrmSimulator, api: Api) -> None:
    sim.configure(rate_limit=1, block_after_429s=2)

    statuses = [api.get("/api/v4/account").status_code for _ in range(4)]
    blocked = api.get("/api/v4/account")
    token_call = grant(sim, grant_type="refresh_token", refresh_token="x")

    assert statuses == [200, 429, 429, 403]  # the second 429 triggers the block
    assert "<center>nginx</center>" in blocked.text
    assert token_call.status_code == 403  # the block covers /oauth2 too (#434)
    sim.configure(rate_limit=None)
    sim.unblock()
    assert api.get("/api/v4/account").status_code == 200


def test_other_ips_are_counted_apart(sim: AmoCrmSimulator, api: Api) -> None:
    sim.configure(rate_limit=1)
    other = {**api.headers, "X-Forwarded-For": "203.0.113.7"}

    assert api.get("/api/v4/account").status_code == 200
    assert requests.get(f"{api.base}/api/v4/account", headers=other, timeout=5).status_code == 200


# --- what the lead sync relies on -------------------------------------------------------------------


def test_a_created_account_field_is_listed_and_takes_values(sim: AmoCrmSimulator, api: Api) -> None:
    created = api.send("POST", "/api/v4/leads/custom_fields", [{"name": "Кампания", "type": "text"}])
    assert created.status_code == 201
    field_id = created.json()["_embedded"]["custom_fields"][0]["id"]
    listed = [row for page in (1, 2) for row in _fields_page(api, page)]
    assert {row["id"]: row["name"] for row in listed}[field_id] == "Кампания"
    lead = api.send(
        "POST", "/api/v4/leads", [{"custom_fields_values": [{"field_id": field_id, "values": [{"value": "a"}]}]}]
    )
    assert lead.status_code == 200


def _fields_page(api: Api, page: int) -> list[dict[str, Any]]:
    answer = api.get("/api/v4/leads/custom_fields", page=page)
    return [] if answer.status_code == 204 else list(answer.json()["_embedded"]["custom_fields"])


def test_a_field_without_a_known_type_is_refused(sim: AmoCrmSimulator, api: Api) -> None:
    refused = api.send("POST", "/api/v4/contacts/custom_fields", [{"name": "X", "type": "hologram"}])
    assert refused.status_code == 400
    assert refused.json()["validation-errors"][0]["errors"][0]["code"] == "NotSupportedChoice"


def test_stats_count_requests_per_second_and_write_batches_per_ip(sim: AmoCrmSimulator, api: Api) -> None:
    api.send("POST", "/api/v4/leads", [{"name": "a"}, {"name": "b"}])
    api.get("/api/v4/account")
    requests.get(f"{api.base}/api/v4/account", headers={**api.headers, "X-Forwarded-For": "203.0.113.9"}, timeout=5)
    stats = sim.stats()
    assert stats["writes"] == [{"method": "POST", "path": "/api/v4/leads", "entities": 2}]
    assert stats["requests"] == 3  # the token exchange, the write, the read; the other IP apart
    assert stats["max_per_second"] == 3  # the test's clock stands still
    assert sim.stats("203.0.113.9")["requests"] == 1


def test_access_tokens_can_be_made_to_expire_after_some_requests(sim: AmoCrmSimulator, api: Api) -> None:
    sim.expire_access_after(1)
    assert api.get("/api/v4/account").status_code == 200
    assert api.get("/api/v4/account").status_code == 401


def test_persistent_429s_earn_the_403_ban_by_default(sim: AmoCrmSimulator, api: Api) -> None:
    threshold = AmoCrmKnobs().block_after_429s
    assert threshold is not None
    sim.configure(rate_limit=1)
    statuses = [api.get("/api/v4/account").status_code for _ in range(threshold + 2)]
    assert statuses == [200] + [429] * threshold + [403]
    sim.unblock()
