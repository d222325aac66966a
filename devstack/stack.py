"""Start and stop the whole local stack: embedded AWS, vendor simulators, the HTTP API."""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, field
from typing import Any

from devstack.apigw import LocalHttpApi
from devstack.aws import EmbeddedAws, provision_from_template, use_endpoint
from devstack.queues import QueuePump
from devstack.roistat_crm_demo import seed_demo
from devstack.scheduler import LocalInvoker, LocalScheduler, scheduled_inputs
from devstack.streams import StreamPump
from devstack.vendors import VENDORS, DemoVendor
from leadhub.jobs.dispatch import PLAN_IMPORT_TARGET, use_local_runner
from leadhub.store.tokens import AccountStore, TokenStore, new_token

DEV_ACCOUNT = "dev-account"
DEFAULT_PORT = 8080


@dataclass
class LocalStack:
    port: int = DEFAULT_PORT
    seed: int = 42
    aws: EmbeddedAws | None = None
    api: LocalHttpApi | None = None
    vendors: dict[str, DemoVendor] = field(default_factory=dict)
    urls: dict[str, str] = field(default_factory=dict)
    dev_token: str = ""
    #: Seconds between local schedule ticks (0: off); AWS uses the template's rate.
    schedule_seconds: float = 300.0
    invoker: LocalInvoker | None = None
    scheduler: LocalScheduler | None = None
    pump: StreamPump | None = None
    #: Seconds between the amoCRM sync's re-check ticks (0: off); AWS uses the template's rate.
    recheck_seconds: float = 60.0
    crm_pump: QueuePump | None = None
    crm_invoker: LocalInvoker | None = None
    crm_scheduler: LocalScheduler | None = None
    #: The demo project's Roistat export page: url, login, password, project_id.
    roistat_crm: dict[str, str] = field(default_factory=dict)
    plan_import_invoker: LocalInvoker | None = None
    plan_import_scheduler: LocalScheduler | None = None

    def start(self) -> dict[str, str]:
        # vendors first: their base URLs go into the environment the settings are read from
        for vendor in VENDORS:
            demo = vendor.start(seed=self.seed)
            self.vendors[demo.name] = demo
            self.urls[demo.name] = demo.base_url
        endpoint = os.environ.get("AWS_ENDPOINT_URL")
        if not endpoint:
            self.aws = EmbeddedAws()
            endpoint = self.aws.start()
        use_endpoint(endpoint)
        provision_from_template()
        self.urls["aws"] = endpoint
        self.dev_token = os.environ.get("LEADHUB_DEV_TOKEN") or new_token()
        AccountStore().ensure(DEV_ACCOUNT)
        TokenStore().register(self.dev_token, DEV_ACCOUNT, label="make run")
        extract: Any = importlib.import_module("extract.app").lambda_handler
        self.invoker = LocalInvoker(extract)
        use_local_runner(self.invoker)
        self.scheduler = LocalScheduler(self.invoker, scheduled_inputs(), self.schedule_seconds)
        self.scheduler.start()
        # Calltouch plan imports: their own function, started by the API, continuing itself, and resumed
        # by its schedule once the daily API points refill
        plan_import: Any = importlib.import_module("plan_import.app").lambda_handler
        self.plan_import_invoker = LocalInvoker(plan_import)
        use_local_runner(self.plan_import_invoker, PLAN_IMPORT_TARGET)
        self.plan_import_scheduler = LocalScheduler(
            self.plan_import_invoker, scheduled_inputs("PlanImportFunction"), self.schedule_seconds
        )
        self.plan_import_scheduler.start()
        # the connectors table's stream into the backfill function, as its event-source mapping would
        backfill: Any = importlib.import_module("backfill.app").lambda_handler
        self.pump = StreamPump(backfill, "BackfillFunction")
        self.pump.start()
        # the amoCRM sync: its queue pumped into it, its re-check schedule fired, as in AWS
        amocrm_sync: Any = importlib.import_module("amocrm_sync.app").lambda_handler
        self.crm_pump = QueuePump(amocrm_sync, "AmoCrmSyncFunction")
        self.crm_pump.start()
        recheck = scheduled_inputs("AmoCrmSyncFunction")
        self.crm_invoker = LocalInvoker(amocrm_sync)
        self.crm_scheduler = LocalScheduler(self.crm_invoker, recheck, self.recheck_seconds)
        self.crm_scheduler.start()
        handler: Any = importlib.import_module("api.app").lambda_handler
        # the page Roistat calls is its own function, on the template's /roistat-crm/{project_id} route
        page: Any = importlib.import_module("roistat_crm.app").lambda_handler
        self.api = LocalHttpApi(handler, port=self.port, routes={"/roistat-crm/": page})
        self.urls["api"] = self.api.start()
        self.roistat_crm = seed_demo(DEV_ACCOUNT, self.urls["api"], seed=self.seed)
        return self.urls

    def stop(self) -> None:
        if self.scheduler:
            self.scheduler.stop()
        if self.pump:
            self.pump.stop()
        for extra in (self.crm_pump, self.crm_scheduler, self.crm_invoker):
            if extra:
                extra.stop()
        if self.invoker:
            self.invoker.stop()
        if self.plan_import_scheduler:
            self.plan_import_scheduler.stop()
        if self.plan_import_invoker:
            self.plan_import_invoker.stop()
        if self.api:
            self.api.stop()
        for demo in self.vendors.values():
            demo.stop()
        if self.aws:
            self.aws.stop()
