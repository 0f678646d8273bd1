"""Data subject requests for operators: a customer's data as JSON, its erasure, or no more marketing mail.

    make privacy ARGS="export anna@example.com"                  # the JSON on standard output
    make privacy ARGS="export anna@example.com --out data.json"  # or into a file
    make privacy ARGS="erase anna@example.com"                   # erases, then says what went and what stays
    make privacy ARGS="consent anna@example.com"                 # withdraws marketing consent

For a customer whose identity you have checked yourself: every request is audited as "operator". Settings
come from the environment, as the action server's do: CRM_PLATFORM and its settings, STATE_DATABASE_URL,
and RASA_ENDPOINTS_FILE for the tracker store (endpoints.yml by default).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Sequence

from actions.user_input import normalized_email
from integrations.config import ConfigurationError
from integrations.errors import IntegrationError
from data_rights.audit import OPERATOR
from data_rights.desk import Erasure, desk_from_env


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make privacy ARGS=...", description=__doc__.splitlines()[0])
    parser.add_argument("request", choices=("export", "erase", "consent"))
    parser.add_argument("email")
    parser.add_argument("--out", type=Path, help="export: write the JSON to this file instead of printing it")
    args = parser.parse_args(argv)
    email = normalized_email(args.email)
    if email is None:
        parser.error(f"{args.email!r} is not an email address")
    try:
        desk = desk_from_env()
        if args.request == "export":
            export = asyncio.run(desk.export(email, OPERATOR))
            if args.out:
                args.out.write_text(export.as_json(), encoding="utf-8")
                print(f"Wrote the data kept about {email} to {args.out}.")
            else:
                print(export.as_json())
        elif args.request == "erase":
            print(summary(email, asyncio.run(desk.erase(email, OPERATOR))))
        else:
            withdrawal = asyncio.run(desk.withdraw_marketing_consent(email, OPERATOR))
            known = "" if withdrawal.had_contact else f" ({withdrawal.platform} had no contact with it)"
            print(f"Marketing consent withdrawn for {email}{known}.")
    except (IntegrationError, ConfigurationError) as failure:
        # The request is audited as failed; repeating it is safe.
        print(f"error: the {args.request} did not complete ({type(failure).__name__}): {failure}", file=sys.stderr)
        return 1
    return 0


def summary(email: str, erasure: Erasure) -> str:
    state = ", ".join(f"{table} {count}" for table, count in erasure.state.items())
    crm = ", ".join(f"{kind} {count}" for kind, count in erasure.crm.erased.items())
    lines = [f"Erased for {email}:",
             f"  conversations: {erasure.conversations} ({erasure.events} events)",
             f"  assistant records: {state}",
             f"  CRM ({erasure.crm.platform}): {crm}",
             "Kept:"]
    return "\n".join(lines + [f"  - {reason}" for reason in erasure.everything_kept])


if __name__ == "__main__":
    sys.exit(main())
