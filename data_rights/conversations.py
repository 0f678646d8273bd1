"""A customer's conversations in the Rasa server's tracker store: found, read and deleted.

The store is the one the endpoints file names (RASA_ENDPOINTS_FILE, endpoints.yml by default), opened by
Rasa's own TrackerStore.create; only its tracker_store section is read (open_tracker_store), because the
file's other sections name settings, such as the action server's token, that an operator's shell lacks.
Rasa's tracker store has no search and no delete, so this works on the SQL tracker store's table directly;
any other store type (Redis, MongoDB, DynamoDB) raises Unsupported, because an erasure that leaves
conversations behind must not be reported as done. Without a tracker_store section Rasa keeps
conversations in its own memory, out of reach: `open_conversation_store` gives None.

Rasa writes a turn after its last action ran, from the tracker it holds in memory: a conversation erased
while it runs comes back with that write. `delete_after_turn` therefore waits until the turn is stored,
then deletes the conversation again.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml
from rasa.core.tracker_store import InMemoryTrackerStore, SQLTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.utils.endpoints import EndpointConfig
from sqlalchemy import func

from integrations.config import ConfigurationError
from integrations.errors import Unsupported

DEFAULT_ENDPOINTS = Path(__file__).resolve().parent.parent / "endpoints.yml"
# How long a deferred deletion waits for Rasa to store the turn it was asked in.
TURN_STORED_TIMEOUT_SECONDS = 30.0
POLL_SECONDS = 0.2
# What of each stored event an export shows: the words exchanged, what was understood, the values kept.
EXPORTED_EVENTS = {"user", "bot", "slot"}
# A setting taken from the environment, as Rasa writes it in endpoints files: ${NAME}.
ENVIRONMENT_SETTING = re.compile(r"\$\{([^}]+)\}")


def endpoints_file(env: Mapping[str, str] = os.environ) -> Path:
    return Path(env.get("RASA_ENDPOINTS_FILE") or DEFAULT_ENDPOINTS)


def open_tracker_store(endpoints: Path, env: Mapping[str, str] = os.environ, domain: Domain | None = None) -> TrackerStore:
    """The tracker store the endpoints file names, as the Rasa server opens it (Rasa's memory without one).

    Only its section is read: the others name secrets (${ACTION_SERVER_TOKEN}) an operator's shell lacks.
    """
    try:
        document = yaml.safe_load(endpoints.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        # Erasing nothing because the file was not found must not pass for an erasure.
        raise ConfigurationError(f"cannot read the endpoints file {endpoints} (RASA_ENDPOINTS_FILE): {exc}") from exc
    section = document.get("tracker_store")
    config = EndpointConfig.from_dict(_from_environment(section, env)) if section else None
    return TrackerStore.create(config, domain or Domain.empty())


def open_conversation_store(endpoints: Path, env: Mapping[str, str] = os.environ) -> "ConversationStore | None":
    """The tracker store the endpoints file names; None when Rasa keeps conversations in its memory."""
    store = open_tracker_store(endpoints, env)
    if isinstance(store, InMemoryTrackerStore):
        return None
    if not isinstance(store, SQLTrackerStore):
        raise Unsupported(f"conversations in a {type(store).__name__} cannot be searched or erased; use the SQL "
                          "tracker store, or erase them there by hand")
    return ConversationStore(store)


class ConversationStore:
    def __init__(self, store: SQLTrackerStore) -> None:
        self._store = store
        self._events = store.SQLEvent

    def senders_mentioning(self, email: str) -> set[str]:
        """The conversations whose stored events hold the email (typed, understood or kept in a slot)."""
        with self._store.session_scope() as session:
            rows = session.query(self._events.sender_id).filter(
                func.lower(self._events.data).contains(email.strip().lower(), autoescape=True)).distinct()
            return {sender_id for (sender_id,) in rows}

    def events(self, sender_id: str) -> list[dict[str, Any]]:
        """The conversation as an export shows it, in order: messages, what was understood, slot values."""
        with self._store.session_scope() as session:
            rows = session.query(self._events.data).filter(self._events.sender_id == sender_id,
                                                           self._events.type_name.in_(EXPORTED_EVENTS))
            return [_readable(json.loads(data)) for (data,) in rows.order_by(self._events.id)]

    def delete(self, sender_ids: Iterable[str]) -> int:
        """Delete every event of these conversations; how many."""
        senders = list(sender_ids)
        if not senders:
            return 0
        with self._store.session_scope() as session:
            deleted = session.query(self._events).filter(self._events.sender_id.in_(senders)).delete(
                synchronize_session=False)
            session.commit()
            return deleted

    async def delete_after_turn(self, sender_id: str, action_name: str,
                                timeout: float = TURN_STORED_TIMEOUT_SECONDS) -> int:
        """Delete the conversation once Rasa has stored the turn in which `action_name` ran in it.

        To be called after the conversation was deleted in that action: the action's own event is then only
        there once Rasa wrote the turn back. Past `timeout` (Rasa stopped, say) it deletes anyway.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not await asyncio.to_thread(self._ran, sender_id, action_name):
            await asyncio.sleep(POLL_SECONDS)
        return await asyncio.to_thread(self.delete, [sender_id])

    def _ran(self, sender_id: str, action_name: str) -> bool:
        with self._store.session_scope() as session:
            return session.query(self._events.id).filter(
                self._events.sender_id == sender_id, self._events.type_name == "action",
                self._events.action_name == action_name).first() is not None


def _from_environment(value: Any, env: Mapping[str, str]) -> Any:
    """The section with each ${NAME} replaced by that setting, as Rasa reads it; one that is not set is an error."""
    if isinstance(value, dict):
        return {key: _from_environment(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [_from_environment(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def setting(match: re.Match) -> str:
        if match.group(1) not in env:
            raise ConfigurationError(f"the tracker store's settings need {match.group(1)}, which is not set")
        return env[match.group(1)]

    return ENVIRONMENT_SETTING.sub(setting, value)


def _readable(event: dict[str, Any]) -> dict[str, Any]:
    moment = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(event.get("timestamp") or 0))
    kind = event.get("event")
    if kind == "user":
        parsed = event.get("parse_data") or {}
        return {"at": moment, "from": "customer", "text": event.get("text"),
                "understood_as": (parsed.get("intent") or {}).get("name"),
                "values": {entity.get("entity"): entity.get("value") for entity in parsed.get("entities") or []},
                "channel": event.get("input_channel"), "metadata": event.get("metadata") or {}}
    if kind == "bot":
        return {"at": moment, "from": "assistant", "text": event.get("text")}
    return {"at": moment, "kept": event.get("name"), "value": event.get("value")}
