"""One pass of the amoCRM lead sync over some inquiries of one amoCRM connector (seed 002).

Mode 1 (an entity's «Создавать» on): the deal / contact / company is created as soon as the inquiry is
known; for three hours after that every re-delivery that changes what would be sent (attribution arriving)
updates it. Mode 2 (off): nothing is created; for three hours the newest deal of the contact with the
inquiry's e-mail is looked for (the contact itself, and its company) and updated once found; a re-check
schedule keeps looking. In both, an entity whose GA-client-id field holds another value is not updated.

Before a contact is created an existing one is looked for by e-mail and by phone (normalised, and checked
exactly: amoCRM's search is fuzzy, B13), so a repeat caller stays one contact. A deal is created at most
once per inquiry: its idempotency key is written to the deal's «ID обращения» field and recorded as
"creating" before the request, so a retry after a lost answer finds the deal instead of making another.
Writes go in batches of up to 250; a rate-limit refusal that outlives the client's retries stops the pass
and cools the account down; a refused token (revoked) is the account's config error, shown in the status.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from leadhub.crm_sync.account import AmoAccount
from leadhub.models.connector import Connector
from leadhub.models.lead_sync import (
    EXPIRED,
    INQUIRY_ID_FIELD,
    MESSAGE_FIELD,
    PARAM_TITLES,
    PENDING,
    SYNCED,
    TYPE_TITLES,
    WAITING,
    WINDOW_HOURS,
    Entity,
    Inquiry,
    LeadSync,
    Param,
    lead_sync_of,
)
from leadhub.observability import logger
from leadhub.settings import Settings, get_settings
from leadhub.store import errors as store_errors
from leadhub.store.crm_sync import CrmSyncStore
from leadhub.vendors import errors as vendor_errors
from leadhub.vendors.amocrm import AmoCrmClient

Raw = dict[str, Any]
#: Entities that carry the inquiry's key (a contact is found again by its e-mail or phone).
KEYED = (Entity.DEAL, Entity.COMPANY)
LAST_ERRORS = 10


def normalised_phone(phone: str | None) -> str | None:
    """Digits only, a Russian 8… read as 7… (C4.1)."""
    digits = re.sub(r"\D", "", phone or "")
    if len(digits) == 11 and digits[0] == "8":
        digits = "7" + digits[1:]
    return digits or None


def normalised_email(email: str | None) -> str | None:
    text = (email or "").strip().casefold()
    return text or None


def _values_of(entity: Raw, code: str) -> set[str]:
    found: set[str] = set()
    for entry in entity.get("custom_fields_values") or []:
        if entry.get("field_code") == code:
            found.update(str(value.get("value", "")) for value in entry.get("values") or [])
    return found


def _field_value(entity: Raw, field_id: int) -> str | None:
    for entry in entity.get("custom_fields_values") or []:
        if entry.get("field_id") == field_id:
            values = [str(value.get("value")) for value in entry.get("values") or [] if value.get("value")]
            return values[0] if values else None
    return None


@dataclass
class Outcome:
    created: int = 0
    updated: int = 0
    waiting: int = 0
    skipped: int = 0
    stopped_by: str | None = None


@dataclass
class _Work:
    state: Raw
    inquiry: Inquiry
    #: entity → its amoCRM id, where one exists (recorded, found, or created in this pass)
    found: dict[Entity, int | None] = field(default_factory=dict)
    #: Entities this pass created (already carrying the data: no update follows).
    created: set[Entity] = field(default_factory=set)
    done: bool = True


class LeadSyncPass:
    def __init__(
        self,
        connector: Connector,
        project_name: str,
        *,
        store: CrmSyncStore | None = None,
        account: AmoAccount | None = None,
        now: Callable[[], float] = time.time,
        settings: Settings | None = None,
    ) -> None:
        self.connector = connector
        self.project_name = project_name
        self.store = store or CrmSyncStore()
        self._account = account
        self.now = now
        self.settings = settings or get_settings()
        self.rules: LeadSync = lead_sync_of(connector.settings)
        self.outcome = Outcome()
        self._field_ids: dict[str, dict[str, int]] = {}

    @property
    def cid(self) -> str:
        return self.connector.id

    # --- entry ----------------------------------------------------------------------------------
    def run(self, incoming: Sequence[Inquiry], recheck: Iterable[str] = ()) -> Outcome:
        works = self._load(incoming, recheck)
        if not works:
            return self.outcome
        account = self.store.account(self.cid)
        if float(account.get("cool_until") or 0) > self.now():
            self._park(works, float(account["cool_until"]))
            self.outcome.stopped_by = "cooldown"
            return self.outcome
        try:
            client = (self._account or AmoAccount(self.cid, batch_size=self.settings.amocrm_sync_batch)).fresh()
            self._field_ids = self._resolve_fields(client, account)
            self._sync(client, works)
            self._note(account, error=None)
        except vendor_errors.RateLimited as error:
            until = self.now() + max(float(error.retry_after or 0), self.settings.amocrm_cooldown_seconds)
            self._note(account, error=error, cool_until=until)
            self._park([work for work in works if not work.done], until)
            self.outcome.stopped_by = "rate_limited"
        except vendor_errors.VendorError as error:
            if isinstance(error, vendor_errors.RequestRejected):
                # a field deleted in amoCRM leaves a stale id behind: look the fields up afresh next time
                self._field_ids, account = {}, {**account, "fields": {}}
            config = error.error_class is vendor_errors.ErrorClass.CONFIG
            self._note(account, error=error, config=config)
            self._park([work for work in works if not work.done], self.now() + self._recheck_seconds)
            self.outcome.stopped_by = "config_error" if config else "vendor_error"
        return self.outcome

    @property
    def _recheck_seconds(self) -> float:
        return self.settings.amocrm_recheck_minutes * 60.0

    # --- state ----------------------------------------------------------------------------------
    def _load(self, incoming: Sequence[Inquiry], recheck: Iterable[str]) -> list[_Work]:
        works: dict[str, _Work] = {}
        now = self.now()
        wanted = [inquiry for inquiry in incoming if self._wanted(inquiry)]
        delivered = {inquiry.id: inquiry for inquiry in wanted}
        recheck = [inquiry_id for inquiry_id in recheck if inquiry_id not in delivered]
        stored = self.store.get_inquiries(self.cid, [*delivered, *recheck])
        for inquiry in wanted:
            state = stored.get(inquiry.id) or {
                "entities": {},
                "first_seen_at": now,
                "window_until": now + WINDOW_HOURS * 3600,
                "state": PENDING,
            }
            state["inquiry"] = inquiry.model_dump(mode="json")
            works[inquiry.id] = _Work(state, inquiry)
        for inquiry_id in recheck:
            if inquiry_id in stored:
                works[inquiry_id] = _Work(stored[inquiry_id], Inquiry.model_validate(stored[inquiry_id]["inquiry"]))
        pending = []
        for work in works.values():
            if now > float(work.state["window_until"]):
                self._expire(work)
            elif work.state.get("sent") == work.inquiry.fingerprint() and work.state["state"] != WAITING:
                self.outcome.skipped += 1  # a duplicate delivery: nothing new to send
            else:
                work.done = False
                pending.append(work)
        return pending

    def _wanted(self, inquiry: Inquiry) -> bool:
        sources = self.rules.source_connector_ids
        return inquiry.type in self.rules.inquiry_types and (not sources or inquiry.source_connector_id in sources)

    def _expire(self, work: _Work) -> None:
        if work.state["state"] in (PENDING, WAITING):
            work.state["state"] = EXPIRED
            self._save(work, due_at=None)

    def _save(self, work: _Work, *, due_at: float | None) -> None:
        try:
            work.state = self.store.save_inquiry(self.cid, work.state, due_at=due_at)
        except (store_errors.VersionConflict, store_errors.AlreadyExists):
            # another delivery of the same inquiry wrote first; the next delivery or re-check carries on
            logger.info("inquiry state changed concurrently", extra={"inquiry_id": work.inquiry.id})

    def _park(self, works: Iterable[_Work], due_at: float) -> None:
        for work in works:
            self._save(work, due_at=min(due_at, float(work.state["window_until"])))
            self.outcome.waiting += 1

    def _note(
        self, account: Raw, *, error: vendor_errors.VendorError | None, config: bool = False, cool_until: float = 0
    ) -> None:
        state = {**account, "fields": self._field_ids or account.get("fields") or {}}
        if error is None:
            state.pop("config_error", None)
            state.pop("cool_until", None)
        else:
            logger.warning("amoCRM sync stopped", extra={"connector_id": self.cid, "vendor_error": error.to_dict()})
            entry = {"at": self.now(), "class": error.error_class.value, "message": error.message}
            state["last_errors"] = [entry, *(account.get("last_errors") or [])][:LAST_ERRORS]
            if config:
                # the vendor's own words ("Token has been revoked"): what the user must act on
                state["config_error"] = error.message
            if cool_until:
                state["cool_until"] = cool_until
        try:
            self.store.save_account(self.cid, state)
        except (store_errors.VersionConflict, store_errors.AlreadyExists):
            logger.info("account state changed concurrently", extra={"connector_id": self.cid})

    # --- fields ---------------------------------------------------------------------------------
    def _resolve_fields(self, client: AmoCrmClient, account: Raw) -> dict[str, dict[str, int]]:
        """Ids of the fields Leadhub sends to by name: the «new» parameters, the message and the key."""
        wanted: dict[Entity, set[str]] = {Entity.DEAL: {MESSAGE_FIELD, INQUIRY_ID_FIELD}}
        if self.rules.creates(Entity.COMPANY):
            # a company has no e-mail or phone to be found by after a lost answer: its key is
            wanted[Entity.COMPANY] = {INQUIRY_ID_FIELD}
        for entity in Entity:
            for param, target in self.rules.targets(entity).items():
                if target.mode == "new":
                    wanted.setdefault(entity, set()).add(PARAM_TITLES[param])
        known: dict[str, dict[str, int]] = {key: dict(value) for key, value in (account.get("fields") or {}).items()}
        for entity, names in wanted.items():
            have = known.setdefault(entity.amo, {})
            missing = names - set(have)
            if not missing:
                continue
            for custom_field in client.list_custom_fields(entity.amo):
                if custom_field.name in missing:
                    have[custom_field.name] = custom_field.id
            still = sorted(names - set(have))
            if still:
                made = client.add_custom_fields(
                    entity.amo,
                    [
                        {"name": name, "type": "date_time" if name == PARAM_TITLES[Param.SENT_AT] else "text"}
                        for name in still
                    ],
                )
                have.update({custom_field.name: custom_field.id for custom_field in made})
        return known

    def _field_id(self, entity: Entity, param: Param) -> int | None:
        target = self.rules.targets(entity).get(param)
        if target is None:
            return None
        if target.mode == "existing":
            return target.field_id
        return self._field_ids.get(entity.amo, {}).get(PARAM_TITLES[param])

    # --- payloads -------------------------------------------------------------------------------
    def _mapped(self, entity: Entity, inquiry: Inquiry) -> list[Raw]:
        values = []
        for param in self.rules.targets(entity):
            field_id = self._field_id(entity, param)
            if field_id is None:
                continue
            if param is Param.SENT_AT:
                values.append({"field_id": field_id, "values": [{"value": int(inquiry.occurred_at.timestamp())}]})
                continue
            value = inquiry.params.get(param)
            if value:
                values.append({"field_id": field_id, "values": [{"value": value}]})
        return values

    def _tag(self) -> list[Raw]:
        return [{"name": self.project_name}]

    def _key(self, inquiry: Inquiry, entity: Entity) -> str:
        return f"lh:{self.cid}:{inquiry.id}:{entity.value}"

    def _new_deal(self, work: _Work) -> Raw:
        inquiry = work.inquiry
        who = inquiry.phone or inquiry.email or inquiry.name or ""
        values = self._mapped(Entity.DEAL, inquiry)
        ids = self._field_ids.get("leads", {})
        values.append({"field_id": ids[INQUIRY_ID_FIELD], "values": [{"value": self._key(inquiry, Entity.DEAL)}]})
        if inquiry.message:
            values.append({"field_id": ids[MESSAGE_FIELD], "values": [{"value": inquiry.message}]})
        deal: Raw = {
            "name": inquiry.subject or f"{TYPE_TITLES[inquiry.type]}: {who}".strip(": "),
            "request_id": self._key(inquiry, Entity.DEAL),
            "custom_fields_values": values,
            "_embedded": {"tags": self._tag()},
        }
        for key, value in (
            ("pipeline_id", self.rules.pipeline_id),
            ("status_id", self.rules.status_id),
            ("responsible_user_id", self.rules.responsible_user_id),
        ):
            if value is not None:
                deal[key] = value
        for entity, kind in ((Entity.CONTACT, "contacts"), (Entity.COMPANY, "companies")):
            linked = work.found.get(entity)
            if linked:
                deal["_embedded"][kind] = [{"id": linked}]
        return deal

    def _new_party(self, work: _Work, entity: Entity) -> Raw:
        inquiry = work.inquiry
        values = self._mapped(entity, inquiry)
        if inquiry.phone:
            values.append({"field_code": "PHONE", "values": [{"value": inquiry.phone, "enum_code": "WORK"}]})
        if inquiry.email:
            values.append({"field_code": "EMAIL", "values": [{"value": inquiry.email, "enum_code": "WORK"}]})
        name = (inquiry.company if entity is Entity.COMPANY else None) or inquiry.name or inquiry.phone or inquiry.email
        party: Raw = {
            "name": name or TYPE_TITLES[inquiry.type],
            "request_id": self._key(inquiry, entity),
            "custom_fields_values": values,
            "_embedded": {"tags": self._tag()},
        }
        if self.rules.responsible_user_id is not None:
            party["responsible_user_id"] = self.rules.responsible_user_id
        company = work.found.get(Entity.COMPANY)
        if entity is Entity.CONTACT and company:
            party["_embedded"]["companies"] = [{"id": company}]
        if entity is Entity.COMPANY:
            key_field = self._field_ids["companies"][INQUIRY_ID_FIELD]
            values.append({"field_id": key_field, "values": [{"value": self._key(inquiry, entity)}]})
        return party

    def _change(self, entity: Entity, amo_id: int, inquiry: Inquiry) -> Raw:
        change: Raw = {"id": amo_id, "tags_to_add": self._tag()}
        values = self._mapped(entity, inquiry)
        if values:
            change["custom_fields_values"] = values
        return change

    # --- the pass -------------------------------------------------------------------------------
    def _sync(self, client: AmoCrmClient, works: list[_Work]) -> None:
        for work in works:
            self._find(client, work)
        for entity in (Entity.COMPANY, Entity.CONTACT, Entity.DEAL):
            self._create(client, entity, [work for work in works if self._to_create(work, entity)])
        for entity in Entity:
            self._update(client, entity, works)
        for work in works:
            self._settle(work)

    def _entity_state(self, work: _Work, entity: Entity) -> Raw:
        state: Raw = work.state.setdefault("entities", {}).setdefault(entity.value, {})
        return state

    def _find(self, client: AmoCrmClient, work: _Work) -> None:
        """What already exists in amoCRM for this inquiry: recorded ids, a lost creation, the contact by e-mail
        or phone, and in mode 2 the newest deal of the contact with the inquiry's e-mail."""
        inquiry = work.inquiry
        for entity in Entity:
            known = self._entity_state(work, entity).get("id")
            if known:
                work.found[entity] = int(known)
        for entity in KEYED:
            if entity not in work.found and self._entity_state(work, entity).get("action") == "creating":
                found = self._by_key(client, entity, self._key(inquiry, entity))
                if found is not None:
                    work.found[entity] = found
                    self._entity_state(work, entity).update({"id": found, "action": "created", "created": True})
        needs_contact = any(entity not in work.found for entity in Entity)
        if not needs_contact:
            return
        contact = self._contact(client, inquiry, by_phone=self.rules.creates(Entity.CONTACT))
        if contact is None:
            return
        if Entity.CONTACT not in work.found:
            work.found[Entity.CONTACT] = int(contact["id"])
            self._entity_state(work, Entity.CONTACT)["action"] = "matched"
        companies = (contact.get("_embedded") or {}).get("companies") or []
        if Entity.COMPANY not in work.found and companies and not self.rules.creates(Entity.COMPANY):
            work.found[Entity.COMPANY] = int(companies[0]["id"])
        if Entity.DEAL not in work.found and not self.rules.creates(Entity.DEAL):
            work.found[Entity.DEAL] = self._newest_deal(client, contact)

    def _by_key(self, client: AmoCrmClient, entity: Entity, key: str) -> int | None:
        """The deal or company created for this inquiry, by the key in its «ID обращения» field."""
        field_id = self._field_ids.get(entity.amo, {}).get(INQUIRY_ID_FIELD)
        if field_id is None:
            return None
        found = client.iter_leads(query=key) if entity is Entity.DEAL else client.iter_companies(query=key)
        for row in found:
            if _field_value(row, field_id) == key:
                return int(row["id"])
        return None

    def _contact(self, client: AmoCrmClient, inquiry: Inquiry, *, by_phone: bool) -> Raw | None:
        """The contact whose EMAIL (or, before creating one, PHONE) is exactly the inquiry's."""
        email, phone = normalised_email(inquiry.email), normalised_phone(inquiry.phone)
        if email:
            for contact in client.find_contacts(email):
                if email in {normalised_email(value) for value in _values_of(contact, "EMAIL")}:
                    return contact
        if by_phone and phone:
            # the national part: amoCRM indexes phones as typed, so "+7…" and "8…" differ (E1)
            for contact in client.find_contacts(phone[-10:]):
                if phone in {normalised_phone(value) for value in _values_of(contact, "PHONE")}:
                    return contact
        return None

    def _newest_deal(self, client: AmoCrmClient, contact: Raw) -> int | None:
        """«берется последняя, наиболее свежая сделка»: the contact's deal created last."""
        ids = [int(lead["id"]) for lead in (contact.get("_embedded") or {}).get("leads") or []]
        if not ids:
            return None
        leads = list(client.iter_leads(id=ids))
        if not leads:
            return None
        newest = max(leads, key=lambda lead: (int(lead.get("created_at") or 0), int(lead["id"])))
        return int(newest["id"])

    def _to_create(self, work: _Work, entity: Entity) -> bool:
        if work.found.get(entity):
            return False
        return self.rules.creates(entity) and (
            entity is not Entity.COMPANY or bool(work.inquiry.company or work.inquiry.name)
        )

    def _create(self, client: AmoCrmClient, entity: Entity, works: list[_Work]) -> None:
        if not works:
            return
        if entity in KEYED:
            for work in works:
                # recorded before the request: a retry after a lost answer looks the entity up by its key
                self._entity_state(work, entity).update({"action": "creating", "key": self._key(work.inquiry, entity)})
                self._save(work, due_at=float(work.state["window_until"]))
        bodies = [self._new_deal(work) if entity is Entity.DEAL else self._new_party(work, entity) for work in works]
        adders = {
            Entity.DEAL: client.add_leads,
            Entity.CONTACT: client.add_contacts,
            Entity.COMPANY: client.add_companies,
        }
        saved = adders[entity](bodies)
        by_key = {str(row.get("request_id")): int(row["id"]) for row in saved}
        for work in works:
            amo_id = by_key.get(self._key(work.inquiry, entity))
            if amo_id is None:
                continue
            work.found[entity] = amo_id
            work.created.add(entity)
            self._entity_state(work, entity).update({"id": amo_id, "action": "created", "created": True})
            self.outcome.created += 1

    def _update(self, client: AmoCrmClient, entity: Entity, works: list[_Work]) -> None:
        """Entities found or created earlier whose data changed: guarded by the GA-client-id field."""
        due = [work for work in works if work.found.get(entity) and entity not in work.created]
        if not due:
            return
        guard = self._field_id(entity, Param.GA_CLIENT_ID)
        current: dict[int, Raw] = {}
        if guard is not None:
            ids = sorted({int(work.found[entity] or 0) for work in due})
            readers = {Entity.DEAL: client.iter_leads, Entity.CONTACT: client.iter_contacts}
            if entity in readers:
                for start in range(0, len(ids), 250):
                    current.update({int(row["id"]): row for row in readers[entity](id=ids[start : start + 250])})
        changes = []
        for work in due:
            amo_id = int(work.found[entity] or 0)
            held = _field_value(current.get(amo_id, {}), guard) if guard is not None else None
            if held and held != work.inquiry.params.get(Param.GA_CLIENT_ID):
                # seed 002: an entity whose GA client id is already filled in is not updated
                self._entity_state(work, entity).update({"id": amo_id, "action": "guarded"})
                continue
            changes.append(self._change(entity, amo_id, work.inquiry))
            self._entity_state(work, entity).update({"id": amo_id, "action": "updated"})
        if not changes:
            return
        writers = {Entity.DEAL: client.update_leads, Entity.CONTACT: client.update_contacts}
        writer = writers.get(entity, client.update_companies)
        writer(changes)
        self.outcome.updated += len(changes)

    def _settle(self, work: _Work) -> None:
        searching = work.inquiry.email and any(
            not self.rules.creates(entity) and not work.found.get(entity) for entity in (Entity.DEAL, Entity.CONTACT)
        )
        work.done = True
        if searching:
            # mode 2: nothing found yet; look again until the window closes
            work.state["state"] = WAITING
            self._save(work, due_at=min(self.now() + self._recheck_seconds, float(work.state["window_until"])))
            self.outcome.waiting += 1
            return
        work.state["state"] = SYNCED
        work.state["sent"] = work.inquiry.fingerprint()
        self._save(work, due_at=None)
