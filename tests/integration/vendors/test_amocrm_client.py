"""AmoCrmClient against AmoCrmSimulator over real HTTP on 127.0.0.1.

One simulator serves the module and is reset to its seeded scenario before every test. Its server-side
rate limit is off unless a test is about it, because most tests use an unpaced policy so they stay fast.
Retry and backoff sleeps are recorded, not slept.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from leadhub.vendors import errors
from leadhub.vendors.amocrm import DEFAULT_POLICY, AmoCrmClient, AmoTokens
from leadhub.vendors.ratelimit import Rate
from leadhub.vendors.transport import RetryPolicy, VendorPolicy
from simulators.amocrm import AmoCrmKnobs, AmoCrmSimulator

CLOCK_START = 1_750_000_000.0
THREE_HOURS = 3 * 3600
UNPACED = VendorPolicy(vendor="amocrm", rates=(), read_timeout=5.0)


@dataclass
class Sleeps:
    delays: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture(scope="module")
def server() -> Iterator[AmoCrmSimulator]:
    simulator = AmoCrmSimulator(seed=11, knobs=AmoCrmKnobs(rate_limit=None), clock=lambda: CLOCK_START)
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture
def sim(server: AmoCrmSimulator) -> AmoCrmSimulator:
    server.reset_faults()
    server.reset_scenario()
    return server


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def make_client(sim: AmoCrmSimulator, sleeps: Sleeps, **overrides: Any) -> AmoCrmClient:
    settings: dict[str, Any] = {
        "base_url_template": sim.base_url,
        "client_id": sim.knobs.client_id,
        "client_secret": sim.knobs.client_secret,
        "redirect_uri": sim.knobs.redirect_uri,
        "sleep": sleeps,
        "policy": UNPACED,
    }
    settings.update(overrides)
    return AmoCrmClient(sim.knobs.subdomain, **settings)


@pytest.fixture
def client(sim: AmoCrmSimulator, sleeps: Sleeps) -> AmoCrmClient:
    connected = make_client(sim, sleeps)
    connected.exchange_code(sim.issue_code())
    return connected


def lead_ids(client: AmoCrmClient, **filters: Any) -> list[int]:
    return [lead["id"] for lead in client.iter_leads(**filters)]


# --- OAuth -----------------------------------------------------------------------------------------------


def test_exchange_code_returns_tokens_and_hands_them_to_on_tokens(sim: AmoCrmSimulator, sleeps: Sleeps) -> None:
    stored: list[AmoTokens] = []
    client = make_client(sim, sleeps, on_tokens=stored.append)

    tokens = client.exchange_code(sim.issue_code())

    assert stored == [tokens]
    assert tokens.refresh_token is not None
    assert tokens.expires_at == int(CLOCK_START) + 86_400
    assert tokens.access_token.get_secret_value() not in repr(tokens)


def test_an_authorization_code_works_once(sim: AmoCrmSimulator, sleeps: Sleeps) -> None:
    code = sim.issue_code()
    make_client(sim, sleeps).exchange_code(code)

    with pytest.raises(errors.InvalidCredentials, match="Authorization code has been revoked"):
        make_client(sim, sleeps).exchange_code(code)


def test_a_wrong_client_secret_is_invalid_credentials(sim: AmoCrmSimulator, sleeps: Sleeps) -> None:
    client = make_client(sim, sleeps, client_secret="not-the-integration-secret")

    with pytest.raises(errors.InvalidCredentials) as caught:
        client.exchange_code(sim.issue_code())
    assert caught.value.status == 401


def test_an_expired_access_token_is_refreshed_once_and_the_new_pair_stored(
    sim: AmoCrmSimulator, sleeps: Sleeps
) -> None:
    stored: list[AmoTokens] = []
    client = make_client(sim, sleeps, on_tokens=stored.append)
    first = client.exchange_code(sim.issue_code())
    sim.advance(86_401)

    account = client.account()

    assert account.subdomain == sim.knobs.subdomain
    assert len(stored) == 2
    assert stored[1] == client.tokens
    assert stored[1].access_token != first.access_token
    assert sim.request_counts["/oauth2/access_token"] == 2


def test_a_refresh_token_spent_elsewhere_is_revoked(sim: AmoCrmSimulator, sleeps: Sleeps, client: AmoCrmClient) -> None:
    stale_copy = make_client(sim, sleeps, tokens=client.tokens)
    client.refresh()

    with pytest.raises(errors.InvalidCredentials, match="Token has been revoked") as caught:
        stale_copy.refresh()
    assert caught.value.status == 401


def test_revoked_access_ends_in_invalid_credentials_after_one_refresh_attempt(
    sim: AmoCrmSimulator, client: AmoCrmClient
) -> None:
    sim.revoke_tokens()

    with pytest.raises(errors.InvalidCredentials, match="Token has been revoked"):
        client.list_pipelines()
    assert sim.request_counts["/api/v4/leads/pipelines"] == 1
    assert sim.request_counts["/oauth2/access_token"] == 2


def test_a_bad_bearer_token_is_invalid_credentials(sim: AmoCrmSimulator, sleeps: Sleeps) -> None:
    client = make_client(sim, sleeps, tokens=AmoTokens(access_token="not-a-token-that-amocrm-issued"))

    with pytest.raises(errors.InvalidCredentials) as caught:
        client.account()
    assert caught.value.status == 401


def test_a_long_lived_token_works_without_refresh(sim: AmoCrmSimulator, sleeps: Sleeps) -> None:
    client = make_client(sim, sleeps, tokens=AmoTokens(access_token=sim.issue_long_lived_token()))

    assert client.account().current_user_id == sim.crm.admin_id


def test_the_subdomain_fills_the_base_url_template(sim: AmoCrmSimulator, sleeps: Sleeps) -> None:
    port = sim.base_url.rsplit(":", 1)[1]
    client = AmoCrmClient(
        "localhost",
        base_url_template=f"http://{{subdomain}}:{port}",
        client_id=sim.knobs.client_id,
        client_secret=sim.knobs.client_secret,
        redirect_uri=sim.knobs.redirect_uri,
        sleep=sleeps,
        policy=UNPACED,
    )
    client.exchange_code(sim.issue_code())

    assert client.account().id == sim.crm.account_id


def test_a_subdomain_that_is_not_a_host_label_is_refused(sim: AmoCrmSimulator, sleeps: Sleeps) -> None:
    with pytest.raises(errors.ConfigError):
        AmoCrmClient(
            "evil.example/x",
            base_url_template="https://{subdomain}.amocrm.ru",
            client_id="id",
            client_secret="secret-value",
            redirect_uri="https://x",
        )


# --- reads -----------------------------------------------------------------------------------------------


def test_account_users_and_pipelines_are_typed(sim: AmoCrmSimulator, client: AmoCrmClient) -> None:
    account = client.account()
    users = client.list_users()
    pipelines = client.list_pipelines()

    assert (account.id, account.timezone, account.currency) == (sim.crm.account_id, "Europe/Moscow", "RUB")
    assert [user.id for user in users] == [user["id"] for user in sim.crm.users]
    assert [user.is_admin for user in users].count(True) == 1
    main = next(pipeline for pipeline in pipelines if pipeline.is_main)
    assert {status.id for status in main.statuses if status.is_closed} == {142, 143}
    assert [status.type for status in main.statuses].count(1) == 1  # «Неразобранное»


def test_custom_fields_include_the_tracking_fields_by_code(client: AmoCrmClient) -> None:
    lead_fields = client.list_custom_fields("leads")
    contact_fields = client.list_custom_fields("contacts")

    assert {"UTM_SOURCE", "GCLIENTID", "_YM_UID", "YCLID"} <= {f.code for f in lead_fields}
    phone = next(f for f in contact_fields if f.code == "PHONE")
    assert "MOB" in [enum.value for enum in phone.enums]


def test_iter_leads_pages_until_there_is_no_next_link(sim: AmoCrmSimulator, sleeps: Sleeps) -> None:
    client = make_client(sim, sleeps, page_size=100)
    client.exchange_code(sim.issue_code())

    ids = lead_ids(client)

    assert len(ids) == len(set(ids)) == sim.crm.counts["leads"] == 300
    assert sim.request_counts["/api/v4/leads"] == 3


def test_the_default_page_is_the_maximum_250(sim: AmoCrmSimulator, client: AmoCrmClient) -> None:
    assert len(lead_ids(client)) == 300
    assert sim.request_counts["/api/v4/leads"] == 2


def test_page_and_batch_sizes_are_capped_at_250(sim: AmoCrmSimulator, sleeps: Sleeps) -> None:
    with pytest.raises(ValueError, match="page_size"):
        make_client(sim, sleeps, page_size=251)
    with pytest.raises(ValueError, match="batch_size"):
        make_client(sim, sleeps, batch_size=251)


def test_filters_order_and_embedded_contacts(sim: AmoCrmSimulator, client: AmoCrmClient) -> None:
    since = sim.now() - THREE_HOURS

    recent = list(client.iter_leads(created_at={"from": since}, order={"created_at": "desc"}, with_=["contacts"]))

    assert recent, "the scenario keeps leads younger than three hours"
    created = [lead["created_at"] for lead in recent]
    assert created == sorted(created, reverse=True)
    assert min(created) >= since
    assert any(lead["_embedded"]["contacts"] for lead in recent)
    chosen = [recent[0]["id"], recent[-1]["id"]]
    assert sorted(lead_ids(client, id=chosen)) == sorted(chosen)


def test_empty_answers_are_204_and_read_as_empty(client: AmoCrmClient) -> None:
    assert lead_ids(client, id=[1]) == []
    assert client.get_lead(1) is None
    assert client.find_contacts("nobody-at-all@nowhere.example") == []


def test_contact_search_is_fuzzy_so_hits_need_an_exact_check(sim: AmoCrmSimulator, client: AmoCrmClient) -> None:
    email = sim.crm.contact_email(8)

    hits = client.find_contacts(email)

    def emails(contact: dict[str, Any]) -> list[str]:
        values = contact["custom_fields_values"] or []
        return [v["value"] for f in values if f["field_code"] == "EMAIL" for v in f["values"]]

    assert len(hits) == 2  # the contact and a lookalike "old.<email>"
    exact = [contact for contact in hits if email in emails(contact)]
    assert len(exact) == 1
    assert exact[0]["_embedded"]["leads"]


# --- writes ----------------------------------------------------------------------------------------------


def test_add_leads_goes_in_batches_of_50_and_keeps_order(sim: AmoCrmSimulator, client: AmoCrmClient) -> None:
    leads = [
        {
            "name": f"Заявка {n}",
            "request_id": f"alfa-{n}",
            "custom_fields_values": [{"field_code": "UTM_SOURCE", "values": [{"value": "yandex"}]}],
            "_embedded": {"tags": [{"name": "Alfa-Track: проект"}]},
        }
        for n in range(120)
    ]

    saved = client.add_leads(leads)

    assert [item["request_id"] for item in saved] == [lead["request_id"] for lead in leads]
    assert sim.request_counts["/api/v4/leads"] == 3
    stored = client.get_lead(saved[-1]["id"])
    assert stored is not None
    assert stored["name"] == "Заявка 119"
    assert [tag["name"] for tag in stored["_embedded"]["tags"]] == ["Alfa-Track: проект"]
    assert stored["custom_fields_values"][0]["field_code"] == "UTM_SOURCE"


def test_update_leads_adds_tags_without_dropping_the_others(client: AmoCrmClient) -> None:
    (created,) = client.add_leads([{"name": "Звонок", "_embedded": {"tags": [{"name": "звонок"}]}}])

    client.update_leads([{"id": created["id"], "price": 5000, "tags_to_add": [{"name": "calltouch"}]}])

    lead = client.get_lead(created["id"])
    assert lead is not None
    assert lead["price"] == 5000
    assert [tag["name"] for tag in lead["_embedded"]["tags"]] == ["звонок", "calltouch"]


def test_contacts_and_companies_are_created_updated_and_found(client: AmoCrmClient) -> None:
    (company,) = client.add_companies([{"name": "ООО «Лидхаб»"}])
    email_field = {"field_code": "EMAIL", "values": [{"value": "new.client@leadhub.example", "enum_code": "WORK"}]}
    (contact,) = client.add_contacts(
        [{"first_name": "Нина", "last_name": "Ершова", "custom_fields_values": [email_field]}]
    )

    client.update_contacts([{"id": contact["id"], "name": "Нина Ершова-Климова"}])

    (found,) = client.find_contacts("new.client@leadhub.example")
    assert found["id"] == contact["id"]
    assert found["name"] == "Нина Ершова-Климова"
    assert company["id"] > 0


def test_complex_add_and_linking_a_contact(client: AmoCrmClient) -> None:
    contact = {"name": "Олег", "custom_fields_values": [{"field_code": "PHONE", "values": [{"value": "+79990001122"}]}]}
    (result,) = client.add_leads_complex([{"name": "Чат", "_embedded": {"contacts": [contact]}}])
    (bare,) = client.add_leads([{"name": "Оффлайн-обращение"}])

    client.link_contact(bare["id"], result["contact_id"], is_main=True)

    assert result["merged"] is False
    lead = client.get_lead(bare["id"], with_=["contacts"])
    assert lead is not None
    assert lead["_embedded"]["contacts"] == [
        {"id": result["contact_id"], "is_main": True, "_links": lead["_embedded"]["contacts"][0]["_links"]}
    ]


def test_a_504_on_a_write_halves_the_batch(sim: AmoCrmSimulator, sleeps: Sleeps, client: AmoCrmClient) -> None:
    sim.configure(gateway_timeout_batch=20)
    first_new_id = sim.crm.tables["leads"].next_id

    saved = client.add_leads([{"name": f"Лид {n}"} for n in range(45)])

    assert len(saved) == 45
    assert sim.crm.tables["leads"].next_id - first_new_id == 45
    # 45 → 504, 22 → 504, then batches of 11: 11, 11, 11, 11, 1
    assert sim.request_counts["/api/v4/leads"] == 7
    assert sleeps.delays == []


def test_a_504_for_a_single_entity_is_a_server_error(sim: AmoCrmSimulator, client: AmoCrmClient) -> None:
    sim.configure(gateway_timeout_batch=0)

    with pytest.raises(errors.ServerError) as caught:
        client.add_leads([{"name": "Лид"}])
    assert type(caught.value) is errors.ServerError
    assert caught.value.status == 504


def test_invalid_data_is_request_rejected_with_the_field_path(sim: AmoCrmSimulator, client: AmoCrmClient) -> None:
    field_id = sim.crm.request_type_field.id
    before = sim.crm.tables["leads"].next_id

    with pytest.raises(errors.RequestRejected) as caught:
        client.add_leads(
            [
                {"name": "ok"},
                {"name": "bad", "custom_fields_values": [{"field_id": field_id, "values": [{"value": "Форма"}]}]},
            ]
        )

    assert "NotSupportedChoice at custom_fields_values.0.values.0.value" in str(caught.value)
    assert "request_id 1" in str(caught.value)
    assert sim.crm.tables["leads"].next_id == before  # one bad item fails the whole request


# --- access errors -----------------------------------------------------------------------------------------


def test_a_non_admin_user_gets_access_denied_on_users(sim: AmoCrmSimulator, sleeps: Sleeps) -> None:
    manager = next(user for user in sim.crm.users if not user["is_admin"])
    client = make_client(sim, sleeps)
    client.exchange_code(sim.issue_code(manager["id"]))

    with pytest.raises(errors.AccessDenied) as caught:
        client.list_users()
    assert caught.value.status == 403


def test_an_unpaid_account_is_feature_disabled(sim: AmoCrmSimulator, client: AmoCrmClient) -> None:
    sim.configure(paid=False)

    with pytest.raises(errors.FeatureDisabled):
        client.account()


def test_a_blocked_ip_is_access_denied_and_not_retried(
    sim: AmoCrmSimulator, sleeps: Sleeps, client: AmoCrmClient
) -> None:
    sim.block_ip()

    with pytest.raises(errors.AccessDenied, match="IP is blocked") as caught:
        client.account()
    assert caught.value.code == "ip_blocked"
    assert sleeps.delays == []


def test_repeated_429s_end_in_the_ip_block(sim: AmoCrmSimulator, client: AmoCrmClient) -> None:
    sim.configure(rate_limit=3, block_after_429s=2)

    with pytest.raises(errors.AccessDenied, match="IP is blocked"):
        for _ in range(5):
            client.get_lead(sim.crm.tables["leads"].first_id)


# --- rate limits ---------------------------------------------------------------------------------------------


def test_the_default_policy_allows_7_requests_a_second() -> None:
    assert DEFAULT_POLICY.rates == (Rate(7, 1.1),)


def test_the_default_policy_stays_under_the_servers_limit(sim: AmoCrmSimulator, sleeps: Sleeps) -> None:
    sim.configure(rate_limit=7)
    client = make_client(sim, sleeps, policy=DEFAULT_POLICY)
    client.exchange_code(sim.issue_code())

    for _ in range(10):
        assert client.get_lead(sim.crm.tables["leads"].first_id) is not None
    assert sleeps.delays == []  # no 429, so nothing was retried


def test_an_unpaced_client_runs_into_the_servers_429(sim: AmoCrmSimulator, client: AmoCrmClient) -> None:
    sim.configure(rate_limit=7)

    with pytest.raises(errors.RateLimited) as caught:
        for _ in range(10):
            client.get_lead(sim.crm.tables["leads"].first_id)
    assert caught.value.retry_after is None  # the gateway's HTML names no delay


def test_an_html_429_without_retry_after_backs_off_exponentially(
    sim: AmoCrmSimulator, sleeps: Sleeps, client: AmoCrmClient
) -> None:
    sim.inject("429-no-retry-after", "429-no-retry-after")

    assert client.account().id == sim.crm.account_id
    first, second = sleeps.delays
    assert 0.25 <= first <= 0.5
    assert 0.5 <= second <= 1.0


def test_a_429_with_retry_after_waits_that_long(sim: AmoCrmSimulator, sleeps: Sleeps, client: AmoCrmClient) -> None:
    sim.set_faults(retry_after=2)
    sim.inject("429")

    client.account()

    assert sleeps.delays == [2.0]


def test_the_documented_json_429_asks_for_300_s_so_it_is_raised(
    sim: AmoCrmSimulator, sleeps: Sleeps, client: AmoCrmClient
) -> None:
    sim.configure(rate_limit_body="json")
    sim.inject("429-no-retry-after")

    with pytest.raises(errors.RateLimited) as caught:
        client.account()
    assert caught.value.retry_after == 300
    assert sleeps.delays == []


def test_429s_that_persist_exhaust_the_retries(sim: AmoCrmSimulator, sleeps: Sleeps, client: AmoCrmClient) -> None:
    sim.inject(*["429-no-retry-after"] * 5)

    with pytest.raises(errors.RateLimited):
        client.account()
    assert len(sleeps.delays) == 4


# --- transient and malformed answers -------------------------------------------------------------------------


def test_a_500_is_retried(sim: AmoCrmSimulator, sleeps: Sleeps, client: AmoCrmClient) -> None:
    sim.inject("500")

    assert client.list_pipelines()
    assert len(sleeps.delays) == 1


def test_a_timeout_is_retried_and_a_persistent_one_is_vendor_timeout(sim: AmoCrmSimulator, sleeps: Sleeps) -> None:
    policy = VendorPolicy(vendor="amocrm", rates=(), read_timeout=0.3, retry=RetryPolicy(max_attempts=2))
    client = make_client(sim, sleeps, policy=policy)
    client.exchange_code(sim.issue_code())
    sim.set_faults(timeout_seconds=1.0)

    sim.inject("timeout")
    assert client.list_pipelines()
    sim.inject("timeout", "timeout")
    with pytest.raises(errors.VendorTimeout):
        client.list_pipelines()
    assert len(sleeps.delays) == 2


def test_a_malformed_body_is_retried_and_a_persistent_one_is_malformed_response(
    sim: AmoCrmSimulator, client: AmoCrmClient
) -> None:
    sim.inject("malformed")
    assert client.list_pipelines()

    sim.inject(*["malformed"] * 5)
    with pytest.raises(errors.MalformedResponse):
        client.list_pipelines()


# --- secrets ---------------------------------------------------------------------------------------------------


def test_secrets_never_reach_errors_or_logs(
    sim: AmoCrmSimulator, sleeps: Sleeps, capsys: pytest.CaptureFixture[str]
) -> None:
    code = sim.issue_code()
    client = make_client(sim, sleeps)
    tokens = client.exchange_code(code)
    assert tokens.refresh_token is not None
    secrets = [
        sim.knobs.client_secret,
        code,
        tokens.access_token.get_secret_value(),
        tokens.refresh_token.get_secret_value(),
    ]
    caught: list[errors.VendorError] = []

    sim.inject("429-no-retry-after", "500", "malformed")  # logged retries
    client.account()
    sim.configure(rate_limit_body="json")
    sim.inject(*["429-no-retry-after"])
    with pytest.raises(errors.RateLimited) as rate_limited:
        client.account()
    caught.append(rate_limited.value)
    with pytest.raises(errors.RequestRejected) as rejected:
        client.add_leads([{"name": 1}])
    caught.append(rejected.value)
    sim.revoke_tokens()
    with pytest.raises(errors.InvalidCredentials) as revoked:  # refreshes with the refresh token, then fails
        client.account()
    caught.append(revoked.value)
    with pytest.raises(errors.InvalidCredentials) as code_reused:
        client.exchange_code(code)
    caught.append(code_reused.value)

    captured = capsys.readouterr()
    output = captured.out + captured.err
    assert "vendor call failed, retrying" in output
    for error in caught:
        rendered = str(error) + json.dumps(error.to_dict(), ensure_ascii=False)
        for secret in secrets:
            assert secret not in rendered
    for secret in secrets:
        assert secret not in output
