"""The amoCRM lead sync (seed 002) against the amoCRM simulator over real HTTP and the embedded AWS:
modes 1 and 2, the three-hour window, the GA-client-id guard, duplicate deliveries, batching within
amoCRM's limits, rate-limit storms, token expiry, racing refreshes and a revoked grant."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from leadhub.crm_sync.account import AmoAccount
from leadhub.crm_sync.status import sync_status
from leadhub.crm_sync.sync import EXPIRED, SYNCED, WAITING, LeadSyncPass, Outcome
from leadhub.errors import InvalidRequest
from leadhub.models.lead_sync import Inquiry, InquiryType, Param
from leadhub.setup.connectors import Connectors
from leadhub.setup.projects import ProjectCreate, Projects
from leadhub.store import aws as store_aws
from leadhub.store.connectors import ConnectorStore
from leadhub.store.crm_sync import CrmSyncStore
from leadhub.store.secrets import SecretStore
from simulators.amocrm import AmoCrmSimulator
from tests.integration.amocrm_connect import connect_amocrm

ACCOUNT = "acc-amocrm"
PROJECT = "Мебель Москва"
HOUR = 3600.0
#: The test's own look into the account comes from another IP: amoCRM counts and limits per IP.
TEST_IP = "10.0.0.7"


def no_sleep(_: float) -> None:
    return None


@dataclass
class World:
    sim: AmoCrmSimulator
    connector_id: str
    clock: float

    def settings(self, **lead_sync: Any) -> None:
        Connectors().update_settings(ACCOUNT, self.connector_id, {"lead_sync": {"enabled": True, **lead_sync}})

    def sync(self, *inquiries: Inquiry, recheck: tuple[str, ...] = (), after_hours: float = 0) -> Outcome:
        now = self.clock + after_hours * HOUR
        connector = ConnectorStore().find_connector(self.connector_id)
        account = AmoAccount(self.connector_id, sleep=no_sleep, now=lambda: now)
        return LeadSyncPass(connector, PROJECT, account=account, now=lambda: now).run(list(inquiries), recheck)

    def state(self, inquiry: Inquiry) -> dict[str, Any]:
        found = CrmSyncStore().get_inquiry(self.connector_id, inquiry.id)
        assert found is not None
        return found

    def api(self, method: str, path: str, body: Any = None) -> Any:
        token = self.sim.issue_long_lived_token()
        answer = requests.request(
            method,
            f"{self.sim.base_url}{path}",
            json=body,
            headers={"Authorization": f"Bearer {token}", "X-Forwarded-For": TEST_IP},
            timeout=10,
        )
        answer.raise_for_status()
        return answer.json() if answer.content else None

    def lead(self, lead_id: int) -> dict[str, Any]:
        return dict(self.api("GET", f"/api/v4/leads/{lead_id}?with=contacts"))

    def writes(self) -> list[dict[str, Any]]:
        return [write for write in self.sim.stats()["writes"] if "custom_fields" not in write["path"]]

    def field(self, entity: str, code: str) -> int:
        found = self.sim.crm.field_by_code(entity, code)
        assert found is not None
        return found.id


def value_of(entity: dict[str, Any], field_id: int) -> str | None:
    for entry in entity.get("custom_fields_values") or []:
        if entry["field_id"] == field_id:
            return str(entry["values"][0]["value"])
    return None


def value_named(entity: dict[str, Any], name: str) -> str | None:
    for entry in entity.get("custom_fields_values") or []:
        if entry["field_name"] == name:
            return str(entry["values"][0]["value"])
    return None


def tags(entity: dict[str, Any]) -> set[str]:
    return {tag["name"] for tag in (entity.get("_embedded") or {}).get("tags") or []}


def call(number: int, **changes: Any) -> Inquiry:
    base: dict[str, Any] = {
        "id": f"ringostat-1.calls.{number}",
        "source_connector_id": "ringostat-1",
        "type": InquiryType.PHONE,
        "occurred_at": datetime.now(UTC) - timedelta(minutes=5),
        "phone": f"8 (916) 555-{number:04d}",
        "name": f"Клиент {number}",
        "params": {Param.SOURCE: "yandex", Param.TRAFFIC_TYPE: "cpc"},
    }
    return Inquiry.model_validate({**base, **changes})


@pytest.fixture
def world(aws: dict[str, str]) -> Iterator[World]:
    with AmoCrmSimulator(seed=5) as sim:
        os.environ["AMOCRM_BASE_URL"] = sim.base_url
        store_aws.reset()
        project = Projects().create(ACCOUNT, ProjectCreate(name=PROJECT, timezone="Europe/Moscow"))
        connector_id = connect_amocrm(ACCOUNT, project.id, sim)
        sim.api_log.clear()
        yield World(sim, connector_id, datetime.now(UTC).timestamp())
    os.environ.pop("AMOCRM_BASE_URL", None)
    store_aws.reset()


def mode_1(world: World) -> None:
    world.settings(
        create={"deal": True, "contact": True, "company": False},
        pipeline_id=world.sim.crm.pipelines[0].id,
        status_id=world.sim.crm.pipelines[0].open_statuses[0],
        responsible_user_id=world.sim.crm.users[1]["id"],
        fields={
            "deal": {
                "source": {"mode": "existing", "field_id": world.field("leads", "UTM_SOURCE")},
                "campaign": {"mode": "new"},
                "ga_client_id": {"mode": "existing", "field_id": world.field("leads", "GCLIENTID")},
            },
            "contact": {"traffic_type": {"mode": "new"}},
        },
    )


def test_a_call_in_mode_1_creates_one_deal_and_contact_then_the_campaign_fills_in(world: World) -> None:
    mode_1(world)
    first = call(1)
    assert world.sync(first).created == 2
    deal_state = world.state(first)["entities"]["deal"]
    deal = world.lead(deal_state["id"])
    assert value_of(deal, world.field("leads", "UTM_SOURCE")) == "yandex"
    assert value_named(deal, "Кампания") is None
    assert PROJECT in tags(deal)
    assert deal["pipeline_id"] == world.sim.crm.pipelines[0].id
    assert deal["responsible_user_id"] == world.sim.crm.users[1]["id"]
    [contact_link] = deal["_embedded"]["contacts"]
    contact = world.api("GET", f"/api/v4/contacts/{contact_link['id']}")
    assert value_named(contact, "Тип трафика") == "cpc"
    assert PROJECT in tags(contact)

    attributed = call(1, params={**first.params, Param.CAMPAIGN: "sofas_msk"})
    outcome = world.sync(attributed, after_hours=1)
    assert outcome.created == 0
    assert value_named(world.lead(deal_state["id"]), "Кампания") == "sofas_msk"
    assert world.state(attributed)["state"] == SYNCED

    writes = len(world.writes())
    assert world.sync(attributed, after_hours=1.5).skipped == 1  # a duplicate delivery
    assert len(world.writes()) == writes


def test_an_update_after_three_hours_is_not_sent(world: World) -> None:
    mode_1(world)
    world.sync(call(2))
    writes = len(world.writes())
    late = call(2, params={Param.CAMPAIGN: "late"})
    world.sync(late, after_hours=3.1)
    assert len(world.writes()) == writes


def test_a_repeat_caller_is_found_by_phone_and_stays_one_contact(world: World) -> None:
    mode_1(world)
    world.sync(call(3))
    again = call(3, id="ringostat-1.calls.3b", phone="+7 916 555 00 03")
    outcome = world.sync(again)
    assert outcome.created == 1  # the deal only
    first_contact = world.state(call(3))["entities"]["contact"]["id"]
    assert world.state(again)["entities"]["contact"] == {"id": first_contact, "action": "updated"}
    assert world.state(call(3))["entities"]["contact"]["created"] is True


def contact_with_deals(world: World, email: str, ga: str | None = None) -> tuple[int, int]:
    """A contact with an older and a newer deal; answers (older, newer)."""
    [contact] = world.api(
        "POST",
        "/api/v4/contacts",
        [{"name": "Анна", "custom_fields_values": [{"field_code": "EMAIL", "values": [{"value": email}]}]}],
    )["_embedded"]["contacts"]
    now = int(world.clock)
    ids = []
    for age in (2 * 86_400, 86_400):
        deal: dict[str, Any] = {
            "name": "Сделка",
            "created_at": now - age,
            "_embedded": {"contacts": [{"id": contact["id"]}]},
        }
        if ga:
            deal["custom_fields_values"] = [{"field_code": "GCLIENTID", "values": [{"value": ga}]}]
        ids.append(world.api("POST", "/api/v4/leads", [deal])["_embedded"]["leads"][0]["id"])
    return ids[0], ids[1]


def mode_2(world: World) -> None:
    world.settings(
        create={"deal": False, "contact": False, "company": False},
        fields={
            "deal": {
                "campaign": {"mode": "new"},
                "ga_client_id": {"mode": "existing", "field_id": world.field("leads", "GCLIENTID")},
            }
        },
    )


def form(number: int, email: str, **changes: Any) -> Inquiry:
    return call(
        number,
        type=InquiryType.FORM,
        phone=None,
        email=email,
        params={Param.CAMPAIGN: "spring", Param.GA_CLIENT_ID: "GA1.2.111.222"},
        **changes,
    )


def test_mode_2_updates_the_newest_deal_of_the_contacts_email(world: World) -> None:
    mode_2(world)
    older, newer = contact_with_deals(world, "Anna@Example.ru")
    inquiry = form(10, " anna@example.RU ")
    outcome = world.sync(inquiry)
    assert (outcome.created, outcome.updated) == (0, 2)  # the deal and the contact
    assert value_named(world.lead(newer), "Кампания") == "spring"
    assert PROJECT in tags(world.lead(newer))
    assert value_named(world.lead(older), "Кампания") is None
    assert not [write for write in world.writes() if write["method"] == "POST" and write["path"] == "/api/v4/leads"][2:]


def test_mode_2_without_a_match_waits_three_hours_then_does_nothing(world: World) -> None:
    mode_2(world)
    inquiry = form(11, "nobody@example.ru")
    assert world.sync(inquiry).waiting == 1
    assert world.state(inquiry)["state"] == WAITING
    assert inquiry.id in CrmSyncStore().due(world.clock + HOUR)[world.connector_id]
    world.sync(recheck=(inquiry.id,), after_hours=1)
    assert world.state(inquiry)["state"] == WAITING
    contact_with_deals(world, "nobody@example.ru")
    writes = len(world.writes())
    world.sync(recheck=(inquiry.id,), after_hours=3.2)
    assert world.state(inquiry)["state"] == EXPIRED
    assert len(world.writes()) == writes
    assert world.connector_id not in CrmSyncStore().due(world.clock + 4 * HOUR)


def test_a_deal_whose_ga_client_id_is_filled_in_is_not_updated(world: World) -> None:
    mode_2(world)
    _, newer = contact_with_deals(world, "ga@example.ru", ga="GA1.2.999.999")
    inquiry = form(12, "ga@example.ru")
    world.sync(inquiry)
    assert world.state(inquiry)["entities"]["deal"]["action"] == "guarded"
    assert value_named(world.lead(newer), "Кампания") is None


def test_a_burst_of_600_calls_goes_in_batches_of_250_within_7_requests_a_second(world: World) -> None:
    world.settings(create={"deal": True, "contact": False, "company": False})
    burst = [call(number) for number in range(600)]
    outcome = world.sync(*burst)
    assert outcome.created == 600
    stats = world.sim.stats()
    created = [
        write["entities"] for write in world.writes() if write == {**write, "method": "POST", "path": "/api/v4/leads"}
    ]
    assert created == [250, 250, 100]
    assert stats["max_per_second"] <= 7
    assert stats["refused"] == {"429": 0, "403": 0}
    assert world.sync(*burst).skipped == 600  # delivered again: nothing new
    assert len(world.sim.crm.tables["leads"].written) == 600


@pytest.mark.parametrize(
    ("body", "storm"),
    [
        ("html", "injected"),  # the gateway's page, no Retry-After (#526)
        ("json", "injected"),  # the documented body with retry_after
        ("html", "shared_ip"),  # another process on the IP leaves 2 requests a second: real refusals
    ],
)
def test_a_429_storm_cools_the_account_down_instead_of_earning_the_403_ban(world: World, body: str, storm: str) -> None:
    world.settings(create={"deal": True, "contact": True, "company": False})
    world.sim.configure(rate_limit_body=body, block_after_429s=5, block_window=60.0)
    if storm == "injected":
        world.sim.inject(*["429-no-retry-after"] * 50)
    else:
        world.sim.configure(rate_limit=2)
    outcome = world.sync(*[call(number) for number in range(20)])
    assert outcome.stopped_by == "rate_limited"
    stats = world.sim.stats()
    assert 0 < stats["refused"]["429"] <= 3
    assert stats["refused"]["403"] == 0
    account = CrmSyncStore().account(world.connector_id)
    assert account["cool_until"] > world.clock
    assert world.sync(call(0), after_hours=0.001).stopped_by == "cooldown"  # still cooling: no request
    assert world.sim.stats()["refused"]["429"] == stats["refused"]["429"]
    world.sim.reset_faults()
    world.sim.configure(rate_limit=7)
    outcome = world.sync(recheck=tuple(call(n).id for n in range(20)), after_hours=0.1)
    assert outcome.stopped_by is None
    assert {world.state(call(n))["state"] for n in range(20)} == {SYNCED}
    assert "cool_until" not in CrmSyncStore().account(world.connector_id)
    assert world.sim.stats()["refused"]["403"] == 0


def test_an_access_token_expiring_mid_batch_is_refreshed_and_the_batch_goes_on(world: World) -> None:
    world.settings(create={"deal": True, "contact": True, "company": False})
    before = SecretStore().get(world.connector_id)["tokens"]["refresh_token"]
    world.sim.expire_access_after(12)
    outcome = world.sync(*[call(number) for number in range(30)])
    assert (outcome.created, outcome.stopped_by) == (60, None)
    assert SecretStore().get(world.connector_id)["tokens"]["refresh_token"] != before


def test_two_refreshes_racing_leave_the_account_working(world: World) -> None:
    first = AmoAccount(world.connector_id, sleep=no_sleep)
    second = AmoAccount(world.connector_id, sleep=no_sleep)
    start = threading.Barrier(2)
    failures: list[Exception] = []

    def refresh(account: AmoAccount) -> None:
        start.wait()
        try:
            account.client.refresh()
        except Exception as error:
            failures.append(error)

    threads = [threading.Thread(target=refresh, args=(account,)) for account in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    # one refresh won at amoCRM; the loser, refused, carried on with the winner's stored pair
    assert first.client.tokens == second.client.tokens
    assert first.client.account().id == second.client.account().id == world.sim.crm.account_id
    # what is stored is the winner's live pair: a later worker can refresh it again
    later = AmoAccount(world.connector_id, sleep=no_sleep)
    later.client.refresh()
    assert later.client.account().id == world.sim.crm.account_id


def test_a_revoked_grant_is_a_config_error_the_status_names(world: World) -> None:
    world.settings(create={"deal": True, "contact": False, "company": False})
    world.sim.revoke_tokens()
    inquiry = call(40)
    outcome = world.sync(inquiry)
    assert outcome.stopped_by == "config_error"
    status = sync_status(ConnectorStore().find_connector(world.connector_id))
    assert status.config_error is not None and "Token has been revoked" in status.config_error
    assert status.inquiries["pending"] == 1
    assert world.state(inquiry)["state"] == "pending"


@pytest.mark.parametrize(
    ("entity", "table", "create", "who"),
    [
        ("deal", "leads", {"deal": True, "contact": False, "company": False}, {}),
        (
            "company",
            "companies",
            {"deal": True, "contact": True, "company": True},
            {"type": InquiryType.FORM, "email": "owner@lyutik.ru", "company": "ООО Лютик"},
        ),
    ],
)
def test_an_entity_created_but_whose_answer_was_lost_is_found_by_its_key_not_made_twice(
    world: World, entity: str, table: str, create: dict[str, bool], who: dict[str, Any]
) -> None:
    world.settings(create=create)
    inquiry = call(50, **who)
    world.sync(inquiry)
    state = world.state(inquiry)
    created_id = state["entities"][entity]["id"]
    # as the state stands when amoCRM saved the entity but its answer never arrived
    state["entities"][entity] = {"action": "creating", "key": state["entities"][entity]["key"]}
    state.pop("sent")
    CrmSyncStore().save_inquiry(world.connector_id, state, due_at=world.clock)
    written = len(world.sim.crm.tables[table].written)
    world.sync(inquiry, after_hours=0.2)
    assert world.state(inquiry)["entities"][entity]["id"] == created_id
    assert len(world.sim.crm.tables[table].written) == written


def test_access_is_renewed_before_it_expires_and_the_new_pair_is_stored(world: World) -> None:
    stored = SecretStore().get(world.connector_id)["tokens"]
    almost_expired = float(stored["expires_at"]) - 60
    account = AmoAccount(world.connector_id, sleep=no_sleep, now=lambda: almost_expired)
    account.fresh()
    renewed = SecretStore().get(world.connector_id)["tokens"]
    assert renewed["refresh_token"] != stored["refresh_token"]
    assert AmoAccount(world.connector_id, sleep=no_sleep).fresh().account().id == world.sim.crm.account_id


def test_a_company_made_in_mode_1_is_linked_to_the_deal_and_the_contact(world: World) -> None:
    world.settings(create={"deal": True, "contact": True, "company": True})
    inquiry = call(60, type=InquiryType.FORM, email="boss@romashka.ru", company="ООО Ромашка")
    assert world.sync(inquiry).created == 3
    entities = world.state(inquiry)["entities"]
    company_id = entities["company"]["id"]
    company = world.api("GET", f"/api/v4/companies/{company_id}")
    assert company["name"] == "ООО Ромашка" and PROJECT in tags(company)
    deal = world.api("GET", f"/api/v4/leads/{entities['deal']['id']}?with=contacts")
    assert [linked["id"] for linked in deal["_embedded"]["companies"]] == [company_id]
    contact = world.api("GET", f"/api/v4/contacts/{entities['contact']['id']}")
    assert [linked["id"] for linked in contact["_embedded"]["companies"]] == [company_id]


@pytest.mark.parametrize(
    ("choice", "refused_field"),
    [
        ({"responsible_user_id": 999_999}, "lead_sync.responsible_user_id"),
        ({"pipeline_id": 999_999}, "lead_sync.pipeline_id"),
        ({"status_id": 999_999}, "lead_sync.status_id"),
        (
            {"fields": {"deal": {"source": {"mode": "existing", "field_id": 999_999}}}},
            "lead_sync.fields.deal.source.field_id",
        ),
        ({"source_connector_ids": ["not-a-connector"]}, "lead_sync.source_connector_ids[0]"),
    ],
)
def test_a_lead_sync_choice_the_account_lacks_is_refused_naming_the_setting(
    world: World, choice: dict[str, Any], refused_field: str
) -> None:
    before = Connectors().get(ACCOUNT, world.connector_id).settings
    with pytest.raises(InvalidRequest) as refused:
        world.settings(**choice)
    assert refused.value.field == refused_field
    assert Connectors().get(ACCOUNT, world.connector_id).settings == before  # nothing saved


def test_a_status_of_another_pipeline_is_refused_and_the_accounts_own_choices_are_saved(world: World) -> None:
    main, other = world.sim.crm.pipelines[0], world.sim.crm.pipelines[1]
    other_status = next(status[0] for status in other.statuses if status[3] == 0 and status[0] > 143)
    with pytest.raises(InvalidRequest) as refused:
        world.settings(pipeline_id=main.id, status_id=other_status)
    assert refused.value.field == "lead_sync.status_id"
    source = next(field for field in world.sim.crm.fields["leads"] if not field.is_predefined)
    world.settings(
        responsible_user_id=world.sim.crm.active_user_ids[-1],
        pipeline_id=other.id,
        status_id=other_status,
        fields={"deal": {"source": {"mode": "existing", "field_id": source.id}}},
    )
    saved = Connectors().get(ACCOUNT, world.connector_id).settings["lead_sync"]
    assert (saved["pipeline_id"], saved["status_id"]) == (other.id, other_status)
