"""Accounts and tokens on the embedded AWS: tokens stored only hashed, listed by id, revoked for good."""

from __future__ import annotations

import pytest

from leadhub import admin
from leadhub.store import errors
from leadhub.store.tokens import AccountStore, TokenStore

pytestmark = pytest.mark.usefixtures("aws")


def test_an_issued_token_works_until_revoked_and_is_never_stored_or_listed() -> None:
    AccountStore().create("acme")
    tokens = TokenStore()
    token, info = tokens.issue("acme", label="ci")
    spare, _ = tokens.issue("acme")
    assert tokens.account_for(token) == "acme"

    assert tokens.revoke("acme", info.token_id).revoked_at
    assert tokens.account_for(token) is None
    assert tokens.account_for(spare) == "acme"
    listed = {t.token_id: (t.label, bool(t.revoked_at)) for t in tokens.list("acme")}
    assert listed[info.token_id] == ("ci", True) and len(listed) == 2
    stored = str(tokens.table._table.scan()["Items"])
    assert token not in stored and spare not in stored


def test_a_token_is_revoked_only_through_its_own_account() -> None:
    tokens = TokenStore()
    token, info = tokens.issue("acme")
    with pytest.raises(errors.NotFound):
        tokens.revoke("other", info.token_id)
    assert tokens.account_for(token) == "acme"


def test_registering_the_same_token_again_keeps_its_first_record() -> None:
    tokens = TokenStore()
    first = tokens.register("fixed-dev-token", "dev-account", label="make run")
    assert tokens.register("fixed-dev-token", "dev-account", label="make run") == first
    assert len(tokens.list("dev-account")) == 1


def test_account_names_are_slugs_and_unique() -> None:
    accounts = AccountStore()
    accounts.create("acme-2")
    with pytest.raises(errors.AlreadyExists):
        accounts.create("acme-2")
    for bad in ("Acme", "-acme", "a", "acme corp", "acme/../x"):
        with pytest.raises(ValueError, match="lowercase"):
            accounts.create(bad)
    assert accounts.exists("acme-2") and not accounts.exists("acme-3")


def test_the_cli_prints_a_token_once_then_only_its_id(capsys: pytest.CaptureFixture[str]) -> None:
    assert admin.main(["issue-token", "acme", "--create-account", "--label", "bi"]) == 0
    issued = capsys.readouterr()
    token = issued.out.strip()
    assert TokenStore().account_for(token) == "acme"
    assert admin.main(["list-tokens", "acme"]) == 0
    listed = capsys.readouterr()
    assert token not in listed.out + listed.err
    assert "bi" in listed.out and TokenStore().list("acme")[0].token_id in listed.out
