"""Accounts and their API tokens, for the operator: `python -m leadhub.admin --help`.

Not an HTTP route on purpose: it writes the tables directly, so whoever may run it is decided by
AWS credentials (the operator's IAM identity in AWS, the dummy ones of the local stack), not by a
token it would itself hand out.

Where the tables are:
  --stack NAME       a deployed stack: the table names come from CloudFormation
  TOKENS_TABLE, ACCOUNTS_TABLE
                     the same variables the functions read (leadhub.settings)
  AWS_ENDPOINT_URL   another AWS endpoint; for the local stack of `make run` use
                     `make token ACCOUNT=…` (or `python -m devstack.admin …`), which knows its names
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from leadhub.store import errors
from leadhub.store.stacks import physical_name
from leadhub.store.tokens import AccountStore, TokenInfo, TokenStore

PROG = "python -m leadhub.admin"


class AdminError(Exception):
    """A refusal the operator can act on: printed as it is, exit status 1."""


def parser(prog: str = PROG) -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog=prog,
        description="Create accounts, issue, list and revoke their API tokens.",
        epilog="Tokens are shown once, when issued; only their SHA-256 hash is stored.",
    )
    root.add_argument("--stack", help="a deployed CloudFormation stack whose tables to use (e.g. leadhub-dev)")
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")

    create = commands.add_parser("create-account", help="create an account")
    create.add_argument("account", metavar="NAME", help="account id: lowercase letters, digits, dashes")

    issue = commands.add_parser("issue-token", help="issue a token for an account; prints it once")
    issue.add_argument("account", metavar="ACCOUNT")
    issue.add_argument("--label", default="", help="what the token is for, shown by list-tokens")
    issue.add_argument("--create-account", action="store_true", help="create the account first if it is new")

    listing = commands.add_parser("list-tokens", help="an account's tokens: id, label, created, revoked")
    listing.add_argument("account", metavar="ACCOUNT")

    revoke = commands.add_parser("revoke-token", help="refuse a token from now on (401)")
    revoke.add_argument("account", metavar="ACCOUNT")
    revoke.add_argument("token_id", metavar="TOKEN_ID", help="the id list-tokens shows (tok_…)")
    return root


def _stores(stack: str | None) -> tuple[AccountStore, TokenStore]:
    if stack is None:
        return AccountStore(), TokenStore()
    return AccountStore(physical_name(stack, "AccountsTable")), TokenStore(physical_name(stack, "TokensTable"))


def _require_account(accounts: AccountStore, account: str, prog: str) -> None:
    if not accounts.exists(account):
        raise AdminError(f"no account {account!r}: create it with `{prog} create-account {account}`")


def _row(info: TokenInfo) -> str:
    return f"{info.token_id:<18} {info.created_at:<21} {info.revoked_at or '-':<21} {info.label}"


def run(args: argparse.Namespace, prog: str) -> None:
    accounts, tokens = _stores(args.stack)
    if args.command == "create-account":
        try:
            accounts.create(args.account)
        except ValueError as invalid:
            raise AdminError(str(invalid)) from None
        except errors.AlreadyExists:
            raise AdminError(f"account {args.account!r} already exists") from None
        print(f"account {args.account} created; issue a token: {prog} issue-token {args.account}", file=sys.stderr)
    elif args.command == "issue-token":
        if args.create_account:
            try:
                accounts.ensure(args.account)
            except ValueError as invalid:
                raise AdminError(str(invalid)) from None
        _require_account(accounts, args.account, prog)
        token, info = tokens.issue(args.account, label=args.label)
        # the token alone on stdout, so `T=$(…)` captures it; the rest is for the reader
        print(
            f"token {info.token_id} for account {args.account} — shown this once, only its hash is kept;"
            f" revoke: {prog} revoke-token {args.account} {info.token_id}",
            file=sys.stderr,
        )
        print(token)
    elif args.command == "list-tokens":
        _require_account(accounts, args.account, prog)
        print(f"{'TOKEN_ID':<18} {'CREATED':<21} {'REVOKED':<21} LABEL")
        for info in tokens.list(args.account):
            print(_row(info))
    else:
        try:
            info = tokens.revoke(args.account, args.token_id)
        except errors.NotFound:
            raise AdminError(f"account {args.account!r} has no token {args.token_id!r} (see list-tokens)") from None
        print(f"token {info.token_id} of account {args.account} revoked at {info.revoked_at}", file=sys.stderr)


def main(argv: Sequence[str] | None = None, *, prog: str = PROG) -> int:
    args = parser(prog).parse_args(argv)
    try:
        run(args, prog)
    except AdminError as refusal:
        print(f"{prog}: {refusal}", file=sys.stderr)
        return 1
    except errors.StoreError as failure:
        print(
            f"{prog}: storage failed ({failure}); check the AWS credentials and where the tables are"
            " (--stack, TOKENS_TABLE/ACCOUNTS_TABLE, AWS_ENDPOINT_URL)",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
