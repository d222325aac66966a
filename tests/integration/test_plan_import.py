"""Plan imports end to end below the API: the service checks and stores, the sending job talks to
the Calltouch simulator over real HTTP, the shared slot limiter lives in moto's DynamoDB."""

from __future__ import annotations

import io
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from plan_import.app import lambda_handler

from devstack.lambda_runtime import LocalContext
from leadhub.clock import utc_now
from leadhub.extract.run import build_streams
from leadhub.extract.slices import day_window
from leadhub.jobs.dispatch import PLAN_IMPORT_TARGET, use_local_runner
from leadhub.models.connector import Connector
from leadhub.models.settings import Vendor
from leadhub.plans.job import STATUS_IMPORTED, STATUS_INVALID, STATUS_REJECTED, run_plan_import
from leadhub.plans.model import ChunkState, ImportState, PlanImport
from leadhub.plans.service import PlanImportRejected, PlanImports, PlanImportView
from leadhub.settings import get_settings
from leadhub.store import aws as store_aws
from leadhub.store.connectors import ConnectorStore
from leadhub.store.objects import ObjectStore
from leadhub.store.plan_imports import PlanImportStore
from leadhub.store.secrets import SecretStore
from leadhub.vendors.calltouch import CalltouchClient
from simulators.calltouch import CalltouchKnobs, CalltouchSimulator

ACCOUNT = "acc-plans"
#: Everything (moto, the simulator, both senders) shares one busy interpreter here: a wider second
#: keeps the test about sharing the budget, not about how late a starved thread wakes up. Two
#: senders that did not share it would still send 2 × 5/1.25 = 8 a second.
RATE_PERIOD = "1.25"
TOKENS = {"token-shop": ["52011"], "token-outlet": ["52012"]}


def plan_row(number: int, **metric: Any) -> dict[str, Any]:
    return {
        "dateFrom": "01-04-2026",
        "dateTo": "30-04-2026",
        "source": "yandex",
        "campaign": f"campaign-{number}",
        "metric": {"type": "Лиды", "name": "Все лиды", "value": number, **metric},
    }


@dataclass
class World:
    sim: CalltouchSimulator
    connectors: dict[str, str]
    service: PlanImports

    def submit(self, connector: str, items: list[Any], *, send_valid_only: bool = False) -> PlanImportView:
        return self.service.submit_items(ACCOUNT, self.connectors[connector], items, send_valid_only=send_valid_only)

    def run(self, import_id: str, **options: Any) -> PlanImport:
        return run_plan_import(import_id, remaining_ms=lambda: 10**9, **options)

    def result_rows(self, view: PlanImportView) -> list[dict[str, Any]]:
        record = PlanImport.model_validate(PlanImportStore().get(view.id))
        assert record.result_key is not None
        sheet = load_workbook(io.BytesIO(ObjectStore().get(record.result_key))).worksheets[0]
        rows = list(sheet.iter_rows(values_only=True))
        return [dict(zip(rows[0], values, strict=True)) for values in rows[1:]]


@pytest.fixture
def world(aws: dict[str, str]) -> Iterator[World]:
    sim = CalltouchSimulator(knobs=CalltouchKnobs(import_progress_polls=1), tokens=TOKENS)
    with sim:
        os.environ["CALLTOUCH_BASE_URL"] = sim.base_url
        os.environ["CALLTOUCH_RATE_PERIOD_SECONDS"] = RATE_PERIOD
        get_settings.cache_clear()
        store_aws.reset()
        connectors = {}
        for name, (token, sites) in zip(("shop", "outlet"), TOKENS.items(), strict=True):
            now = utc_now()
            connector = Connector(
                id=f"con-{name}",
                account_id=ACCOUNT,
                project_id="prj-plans",
                vendor=Vendor.CALLTOUCH,
                name=name,
                vendor_account_id=sites[0],
                created_at=now,
                updated_at=now,
            )
            ConnectorStore().create_connector(connector)
            SecretStore().put(connector.id, {"access_token": token, "site_id": sites[0]})
            connectors[name] = connector.id
        yield World(sim, connectors, PlanImports())
    os.environ.pop("CALLTOUCH_BASE_URL", None)
    os.environ.pop("CALLTOUCH_RATE_PERIOD_SECONDS", None)
    get_settings.cache_clear()


def test_250_rows_go_as_3_chunks_all_confirmed_and_the_result_lists_every_row(world: World) -> None:
    view = world.submit("shop", [plan_row(n) for n in range(250)])
    assert view.state is ImportState.QUEUED and view.progress.chunks == 3

    done = world.run(view.id)

    assert done.state is ImportState.DONE
    assert [chunk.count for chunk in done.chunks] == [100, 100, 50]
    assert all(chunk.state is ChunkState.CONFIRMED for chunk in done.chunks)
    shown = world.service.get(ACCOUNT, view.id)
    assert (shown.progress.chunks_sent, shown.progress.chunks_confirmed, shown.progress.chunks_failed) == (3, 3, 0)
    assert shown.result is not None and shown.result.url
    rows = world.result_rows(view)
    assert [row["Кампания (campaign)"] for row in rows] == [f"campaign-{n}" for n in range(250)]
    assert {row["Статус"] for row in rows} == {STATUS_IMPORTED}
    assert world.sim.request_counts["/report-service/RestAPI/api/plans-import/add"] == 3
    assert world.sim.rates()["rate_limited"] == 0


def test_an_invalid_row_refuses_the_import_and_nothing_is_stored_or_sent(world: World) -> None:
    items = [plan_row(n) for n in range(5)]
    items[3]["dateTo"] = "31-04-2026"
    with pytest.raises(PlanImportRejected) as refused:
        world.submit("shop", items)
    assert refused.value.details["violations"] == [
        {"field": "items[3].dateTo", "message": "Значение не является правильной датой.", "item": 3}
    ]
    assert world.sim.request_counts == {}


def test_the_same_rows_again_find_the_first_import(world: World) -> None:
    items = [plan_row(n) for n in range(3)]
    first = world.submit("shop", items)
    again = world.submit("shop", [dict(item) for item in items])
    assert again.id == first.id and again.duplicate and not first.duplicate
    other_connector = world.submit("outlet", items)
    assert other_connector.id != first.id


def test_sending_only_the_valid_rows_lists_the_others_as_not_sent(world: World) -> None:
    items = [plan_row(n) for n in range(4)]
    items[1]["metric"]["type"] = "Звонки"
    view = world.submit("shop", items, send_valid_only=True)
    assert view.progress.items_skipped == 1
    world.run(view.id)
    statuses = [row["Статус"] for row in world.result_rows(view)]
    assert statuses == [STATUS_IMPORTED, STATUS_INVALID, STATUS_IMPORTED, STATUS_IMPORTED]


def test_calltouchs_own_refusal_is_mapped_back_to_the_submitted_row(world: World) -> None:
    # a custom column the project holds twice: only Calltouch can know it (seed 004 error 6)
    world.sim.knobs.non_unique_custom_names = frozenset({"План отдела"})
    items = [plan_row(n) for n in range(250)]
    items[150]["metric"] = {"type": "Пользовательские", "name": "План отдела", "value": 5}
    view = world.submit("shop", items)
    done = world.run(view.id)
    assert [chunk.state for chunk in done.chunks] == [ChunkState.CONFIRMED, ChunkState.FAILED, ChunkState.CONFIRMED]
    assert done.chunks[1].violations == [
        {
            "fieldPath": "items[150].metric.name",
            "message": "Название пользовательского столбца не уникально, импорт невозможен.",
        }
    ]
    rows = world.result_rows(view)
    assert rows[150]["Статус"] == STATUS_REJECTED and "items[150].metric.name" in rows[150]["Ошибки"]
    assert rows[149]["Статус"] != STATUS_IMPORTED and rows[200]["Статус"] == STATUS_IMPORTED


def test_spent_api_points_stop_the_import_until_they_refill(world: World) -> None:
    world.sim.knobs.daily_points = 25  # two chunks (10 points each), then the budget is spent
    view = world.submit("shop", [plan_row(n) for n in range(300)])
    waiting = world.run(view.id)
    assert waiting.state is ImportState.WAITING and waiting.resume_at is not None
    assert waiting.resume_at > time.time() + 60
    assert [chunk.state for chunk in waiting.chunks] == [ChunkState.SENT, ChunkState.SENT, ChunkState.PENDING]
    assert "points" in (world.service.get(ACCOUNT, view.id).last_error or "")
    # before resume_at nothing happens; after it (the budget refilled) the import ends
    assert world.run(view.id).state is ImportState.WAITING
    world.sim.knobs.daily_points = None
    done = world.run(view.id, clock=lambda: time.time() + 86_400)
    assert done.state is ImportState.DONE
    assert all(chunk.state is ChunkState.CONFIRMED for chunk in done.chunks)


def test_a_server_error_on_a_chunk_is_retried_and_the_import_still_ends(world: World) -> None:
    world.sim.inject("500")
    view = world.submit("shop", [plan_row(n) for n in range(120)])
    done = world.run(view.id, sleep=lambda seconds: None)
    assert done.state is ImportState.DONE
    assert [chunk.attempts for chunk in done.chunks] == [1, 0]
    assert all(chunk.state is ChunkState.CONFIRMED for chunk in done.chunks)


def test_an_import_out_of_time_continues_itself_in_a_new_invocation(world: World) -> None:
    started: list[dict[str, Any]] = []
    use_local_runner(started.append, PLAN_IMPORT_TARGET)
    try:
        view = world.submit("shop", [plan_row(n) for n in range(250)])
        assert started == [{"plan_import": {"id": view.id}}]
        budget = iter([10**9, 0])  # one chunk, then the invocation's time runs low
        first = run_plan_import(view.id, remaining_ms=lambda: next(budget, 0))
        assert first.state is ImportState.SENDING and len(started) == 2
        assert [chunk.state for chunk in first.chunks].count(ChunkState.PENDING) == 2
        assert world.run(view.id).state is ImportState.DONE
    finally:
        use_local_runner(None, PLAN_IMPORT_TARGET)


def test_two_imports_at_once_share_5_requests_a_second(world: World) -> None:
    views = [world.submit(name, [plan_row(n) for n in range(500)]) for name in ("shop", "outlet")]
    finished: list[PlanImport] = []
    threads = [threading.Thread(target=lambda v=v: finished.append(world.run(v.id))) for v in views]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [record.state for record in finished] == [ImportState.DONE, ImportState.DONE]
    rates = world.sim.rates()
    assert rates["rate_limited"] == 0
    assert rates["ips"]["local"]["requests"] >= 20
    assert rates["ips"]["local"]["peak_per_window"] <= 5


def test_two_senders_limited_each_on_their_own_exceed_it_and_the_simulator_counts(world: World) -> None:
    """The control: per-process limiters (one per key) let two senders send 10 a second together."""
    clients = [CalltouchClient(token, sites[0], base_url=world.sim.base_url) for token, sites in TOKENS.items()]

    def send(client: CalltouchClient) -> None:
        for number in range(8):
            client.add_plan_chunk([plan_row(number)])

    threads = [threading.Thread(target=send, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rates = world.sim.rates()
    assert rates["ips"]["local"]["peak_per_window"] > 5 or rates["rate_limited"] > 0


def test_an_import_log_that_answers_error_marks_the_rows_calltouch_marked(world: World) -> None:
    world.sim.knobs.per_item_status = True
    world.sim.script_outcomes("success", "error")
    view = world.submit("shop", [plan_row(n) for n in range(150)])
    done = world.run(view.id)
    assert done.state is ImportState.DONE
    assert [chunk.state for chunk in done.chunks] == [ChunkState.CONFIRMED, ChunkState.FAILED]
    failed = done.chunks[1].failed_rows
    assert failed is not None and failed
    statuses = [row["Статус"] for row in world.result_rows(view)]
    assert [n for n, status in enumerate(statuses) if status != STATUS_IMPORTED] == [100 + o for o in failed]
    assert world.service.get(ACCOUNT, view.id).progress.chunks_failed == 1


def test_the_function_sends_an_import_and_its_schedule_resumes_one_whose_points_refilled(world: World) -> None:
    def invoke(payload: dict[str, Any]) -> Any:
        return lambda_handler(payload, LocalContext(timeout_seconds=900))

    world.sim.knobs.daily_points = 15  # one chunk, then the points are spent
    view = world.submit("shop", [plan_row(n) for n in range(200)])
    assert invoke({"plan_import": {"id": view.id}}) == {"plan_import": view.id, "state": "waiting"}
    assert invoke({"resume": True, "scheduled_time": "2026-12-02T00:00:00Z"}) == {"resumed": []}  # not yet

    world.sim.knobs.daily_points = None
    store = PlanImportStore()
    record = PlanImport.model_validate(store.get(view.id))
    record.resume_at = time.time() - 1  # the day turned: the points refilled
    store.save(record.model_dump(mode="json", exclude_none=True), finished=False)
    use_local_runner(invoke, PLAN_IMPORT_TARGET)
    try:
        assert invoke({"resume": True, "scheduled_time": "2026-12-02T00:15:00Z"}) == {"resumed": [view.id]}
    finally:
        use_local_runner(None, PLAN_IMPORT_TARGET)
    assert world.service.get(ACCOUNT, view.id).state is ImportState.DONE


def test_a_refused_key_stops_the_import_and_says_why(world: World) -> None:
    SecretStore().put(world.connectors["shop"], {"access_token": "revoked-token", "site_id": "52011"})
    view = world.submit("shop", [plan_row(n) for n in range(150)])
    failed = world.run(view.id)
    assert failed.state is ImportState.FAILED
    assert "Access token не найден" in (failed.last_error or "")
    assert "revoked-token" not in (failed.last_error or "")
    assert {row["Статус"] for row in world.result_rows(view)} == {"не отправлена"}


def test_an_import_and_the_extraction_of_calls_share_5_requests_a_second(world: World) -> None:
    """Calltouch counts every request from one IP: extraction's reads reserve the same slots."""
    connector = ConnectorStore().get_connector(ACCOUNT, world.connectors["outlet"])
    readers = build_streams(connector, SecretStore().get(connector.id), "Europe/Moscow")
    today = date.today()
    days = [today - timedelta(days=back) for back in range(70, 0, -1)]

    def extract() -> None:
        for reader in readers:
            for day in days:
                start, end = day_window(day, ZoneInfo("Europe/Moscow"))
                list(reader.read_day(day, start, end))

    view = world.submit("shop", [plan_row(n) for n in range(500)])
    finished: list[PlanImport] = []
    threads = [threading.Thread(target=extract), threading.Thread(target=lambda: finished.append(world.run(view.id)))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [record.state for record in finished] == [ImportState.DONE]
    rates = world.sim.rates()
    assert rates["rate_limited"] == 0
    assert rates["ips"]["local"]["requests"] >= 30
    assert rates["ips"]["local"]["peak_per_window"] <= 5
