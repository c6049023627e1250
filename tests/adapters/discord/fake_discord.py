"""A fake Discord on 127.0.0.1: the REST routes and the gateway websocket Huitaine's bot uses.

It plays one guild with members, channels, a thread and a forum post (and, when asked, a second
guild with its own help and moderators' channels). Tests act as members
(`say`, `edit`, `delete`, `press`, `submit_modal`, `slash`) and read what the bot did from
`posts`, `callbacks` and `requests`. The gateway keeps each session's event log so that a
dropped connection can be RESUMEd, replaying what the client missed.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from aiohttp import WSMsgType, web

from adapters.discord.convert import snowflake_at

_LOGGER = logging.getLogger(__name__)
T = TypeVar("T")

TOKEN = "fake-token.not-a-real-one"
APP_ID = "1300000000000000001"
GUILD = "1300000000000000100"
HELP = "1300000000000000201"
GENERAL = "1300000000000000202"
REVIEW = "1300000000000000203"
OFFTOPIC = "1300000000000000204"
FORUM = "1300000000000000205"
THREAD = "1300000000000000301"  # a thread under #help
FORUM_POST = "1300000000000000302"  # a post (thread) in the forum
ROLE_MOD = "1300000000000000401"
ROLE_HELPER = "1300000000000000402"  # no staff name, but Manage Messages
ROLE_ESCALATE = "1300000000000000403"
# The second server (`FakeDiscord(second_guild=True)`): no roles, a help and a review channel.
GUILD2 = "1300000000000001100"
HELP2 = "1300000000000001201"
REVIEW2 = "1300000000000001203"
_SECOND_CHANNELS = {HELP2: "aide", REVIEW2: "huitaine-moderation"}

MESSAGE_CONTENT_INTENT = 1 << 15
GATEWAY_MESSAGE_CONTENT_LIMITED = 1 << 19
VIEW_AND_SEND = (1 << 10) | (1 << 11) | (1 << 16)
MANAGE_MESSAGES = 1 << 13
EPHEMERAL = 1 << 6


@dataclass(frozen=True)
class User:
    """A Discord account in the fake guild."""

    id: str
    username: str
    global_name: str | None = None
    roles: tuple[str, ...] = ()
    bot: bool = False
    nick: str | None = None

    def payload(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "username": self.username,
            "global_name": self.global_name,
            "discriminator": "0",
            "avatar": None,
            "bot": self.bot,
            "public_flags": 0,
        }


BOT = User("1300000000000000500", "huitaine", "Huitaine", bot=True)
ALICE = User("1300000000000000501", "alice_w", "Alice")
BOB = User("1300000000000000502", "bob", "Bob")
CAMILLE = User("1300000000000000503", "camille", "Camille", roles=(ROLE_MOD,))
HELPER = User("1300000000000000504", "hugo", "Hugo", roles=(ROLE_HELPER,))
OTHER_BOT = User("1300000000000000505", "otherbot", "Other bot", bot=True)
DANA = User("1300000000000000506", "dana", None, nick="Dana (FR)")
EMILE = User("1300000000000000507", "emile", "Émile")


@dataclass
class Post:
    """A message the bot created (through REST), as Discord stored it."""

    payload: dict[str, Any]
    body: dict[str, Any]
    at: float = field(default_factory=time.perf_counter)  # when the request arrived

    @property
    def id(self) -> str:
        return str(self.payload["id"])

    @property
    def channel_id(self) -> str:
        return str(self.payload["channel_id"])


@dataclass
class Callback:
    """An interaction response (POST /interactions/{id}/{token}/callback)."""

    interaction_id: str
    type: int
    data: dict[str, Any]

    @property
    def ephemeral(self) -> bool:
        return bool(int(self.data.get("flags", 0)) & EPHEMERAL)


@dataclass
class Session:
    """A gateway session: its id and every dispatched frame, for RESUME."""

    id: str
    frames: list[dict[str, Any]] = field(default_factory=list)

    @property
    def seq(self) -> int:
        return len(self.frames)


@dataclass
class Failure:
    """An error the fake answers instead of doing what was asked (or after doing it)."""

    method: str
    path: re.Pattern[str]
    status: int
    times: int = 1
    apply_first: bool = False  # do the work, then answer the error (a 5xx after posting)
    body: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # Exactly "application/json", as Discord answers: discord.py compares the header verbatim.
    return web.Response(
        body=json.dumps(data).encode(),
        status=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


class FakeDiscord:
    """The fake server; `start()` it, point discord.py at `base_url`, `stop()` it."""

    def __init__(
        self,
        now: Callable[[], datetime],
        *,
        message_content: bool = True,
        second_guild: bool = False,
    ) -> None:
        self.now = now
        self.guild_ids = [GUILD, GUILD2] if second_guild else [GUILD]
        self.message_content = message_content  # the application's Message Content flag
        self.refuse_content_intent = False  # the gateway closes with 4014 on IDENTIFY
        self.users = {u.id: u for u in (BOT, ALICE, BOB, CAMILLE, HELPER, OTHER_BOT, DANA, EMILE)}
        self.messages: dict[str, dict[str, Any]] = {}
        self.posts: list[Post] = []
        self.callbacks: list[Callback] = []
        self.webhook_edits: list[tuple[str, dict[str, Any]]] = []
        self.requests: list[tuple[str, str, Any]] = []
        self.identifies: list[dict[str, Any]] = []
        self.resumes: list[dict[str, Any]] = []
        self.commands_synced: list[str] = []
        self.failures: list[Failure] = []
        self.session: Session | None = None
        # A RESUME replays from this sequence number when set (at-least-once delivery), else
        # only what the client missed, as Discord does.
        self.replay_from: int | None = None
        self._ws: web.WebSocketResponse | None = None
        self._live = False
        self._ids = itertools.count(1)
        self._sessions = itertools.count(1)
        self._nonces: dict[str, str] = {}
        self._tokens: dict[str, dict[str, Any]] = {}  # interaction token → interaction
        self._originals: dict[str, str] = {}  # interaction token → response message id
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    # ------------------------------------------------------------------ life cycle

    async def start(self) -> str:
        app = web.Application()
        api = "/api/v10"
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get(f"{api}/users/@me", self._me)
        app.router.add_get(f"{api}/oauth2/applications/@me", self._application)
        app.router.add_get(f"{api}/gateway/bot", self._gateway_bot)
        app.router.add_post(f"{api}/channels/{{channel}}/messages", self._create_message)
        app.router.add_get(f"{api}/channels/{{channel}}/messages", self._history)
        one_message = f"{api}/channels/{{channel}}/messages/{{message}}"
        app.router.add_patch(one_message, self._edit_message)
        app.router.add_get(one_message, self._get_message)
        app.router.add_post(f"{api}/interactions/{{iid}}/{{token}}/callback", self._callback)
        app.router.add_patch(
            f"{api}/webhooks/{{app}}/{{token}}/messages/{{message}}", self._webhook_edit
        )
        app.router.add_post(f"{api}/webhooks/{{app}}/{{token}}", self._followup)
        app.router.add_put(f"{api}/applications/{{app}}/commands", self._sync)
        app.router.add_put(f"{api}/applications/{{app}}/guilds/{{guild}}/commands", self._sync)
        app.router.add_route("*", "/{tail:.*}", self._unknown)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"
        return self.base_url

    async def stop(self) -> None:
        if self._ws is not None and not self._ws.closed:
            await self._ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # ------------------------------------------------------------------ helpers

    def snowflake(self) -> str:
        return str(snowflake_at(self.now(), next(self._ids)))

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait_for(self, predicate: Callable[[], T], seconds: float = 5.0) -> T:
        """Wait until `predicate()` is truthy (re-checked on every request); return it."""
        async with self._changed:
            return await asyncio.wait_for(self._changed.wait_for(predicate), seconds)

    async def callback(self, interaction_id: str, seconds: float = 5.0) -> Callback:
        """Wait for the bot's response to an interaction."""
        found = await self.wait_for(lambda: self.callback_for(interaction_id), seconds)
        assert found is not None
        return found

    async def answer_text(self, interaction_id: str, seconds: float = 5.0) -> str:
        """Wait for what the user is finally shown in answer to an interaction."""
        found = await self.wait_for(lambda: self.answer(interaction_id), seconds)
        assert found is not None
        return found

    def channel_posts(self, channel_id: str) -> list[Post]:
        return [post for post in self.posts if post.channel_id == channel_id]

    def callback_for(self, interaction_id: str) -> Callback | None:
        return next((c for c in self.callbacks if c.interaction_id == interaction_id), None)

    def original_content(self, interaction_id: str) -> str | None:
        """The text an interaction's deferred answer was edited to."""
        for token, interaction in self._tokens.items():
            if interaction["id"] == interaction_id:
                message = self.messages.get(self._originals.get(token, ""))
                if message is not None and message.get("content"):
                    return str(message["content"])
        return None

    def answer(self, interaction_id: str) -> str | None:
        """What the user saw in answer to an interaction: a message, or an edited deferral."""
        callback = self.callback_for(interaction_id)
        if callback is None:
            return None
        if callback.type == 4:
            return str(callback.data.get("content", ""))
        return self.original_content(interaction_id)

    def fail(
        self,
        method: str,
        path: str,
        status: int,
        *,
        times: int = 1,
        apply_first: bool = False,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer the next `times` matching requests with `status`."""
        self.failures.append(
            Failure(
                method,
                re.compile(path),
                status,
                times,
                apply_first,
                body or {"message": "fake failure", "code": 0},
                headers or {},
            )
        )

    def _failure(self, request: web.Request) -> Failure | None:
        for failure in self.failures:
            if (
                failure.times > 0
                and failure.method == request.method
                and failure.path.search(request.path)
            ):
                failure.times -= 1
                return failure
        return None

    # ------------------------------------------------------------------ world payloads

    def member(
        self, user: User, *, permissions: bool = False, guild: str = GUILD
    ) -> dict[str, Any]:
        # Every role is the first guild's: in the second, people hold none.
        roles = list(user.roles) if guild == GUILD else []
        payload: dict[str, Any] = {
            "roles": roles,
            "nick": user.nick,
            "avatar": None,
            "joined_at": "2025-01-01T00:00:00+00:00",
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
        }
        if permissions:
            payload["user"] = user.payload()
            payload["permissions"] = str(self.permissions(user, guild))
        return payload

    def permissions(self, user: User, guild: str = GUILD) -> int:
        bits = VIEW_AND_SEND
        if guild == GUILD and (ROLE_MOD in user.roles or ROLE_HELPER in user.roles):
            bits |= MANAGE_MESSAGES
        return bits

    @staticmethod
    def guild_of(channel_id: str) -> str:
        """The guild a channel (or thread) belongs to."""
        return GUILD2 if channel_id in _SECOND_CHANNELS else GUILD

    def channel(self, channel_id: str) -> dict[str, Any]:
        if channel_id in _SECOND_CHANNELS:
            names = _SECOND_CHANNELS
            return _text_channel(
                channel_id, GUILD2, names[channel_id], list(names).index(channel_id)
            )
        names = {
            HELP: "help",
            GENERAL: "general",
            REVIEW: "huitaine-review",
            OFFTOPIC: "off-topic",
        }
        if channel_id == FORUM:
            return {
                "id": FORUM,
                "type": 15,
                "guild_id": GUILD,
                "name": "support-forum",
                "position": 5,
                "permission_overwrites": [],
                "nsfw": False,
                "parent_id": None,
                "topic": None,
                "rate_limit_per_user": 0,
                "available_tags": [],
                "default_reaction_emoji": None,
                "default_sort_order": None,
                "default_forum_layout": 0,
                "flags": 0,
            }
        if channel_id in (THREAD, FORUM_POST):
            parent = HELP if channel_id == THREAD else FORUM
            return {
                "id": channel_id,
                "type": 11,
                "guild_id": GUILD,
                "parent_id": parent,
                "owner_id": ALICE.id,
                "name": "login trouble" if channel_id == THREAD else "Refund for a broken mug",
                "last_message_id": None,
                "rate_limit_per_user": 0,
                "message_count": 1,
                "member_count": 1,
                "flags": 0,
                "thread_metadata": {
                    "archived": False,
                    "auto_archive_duration": 1440,
                    "archive_timestamp": "2026-11-01T00:00:00+00:00",
                    "locked": False,
                    "create_timestamp": "2026-11-01T00:00:00+00:00",
                },
                "applied_tags": [],
            }
        return _text_channel(channel_id, GUILD, names[channel_id], list(names).index(channel_id))

    def guild(self, guild_id: str = GUILD) -> dict[str, Any]:
        def role(role_id: str, name: str, permissions: int, position: int) -> dict[str, Any]:
            return {
                "id": role_id,
                "name": name,
                "color": 0,
                "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
                "hoist": False,
                "icon": None,
                "unicode_emoji": None,
                "position": position,
                "permissions": str(permissions),
                "managed": False,
                "mentionable": False,
                "flags": 0,
            }

        if guild_id == GUILD2:
            roles = [role(GUILD2, "@everyone", VIEW_AND_SEND, 0)]
            channels = [self.channel(c) for c in _SECOND_CHANNELS]
            threads: list[dict[str, Any]] = []
        else:
            roles = [
                role(GUILD, "@everyone", VIEW_AND_SEND, 0),
                role(ROLE_MOD, "Moderator", VIEW_AND_SEND | MANAGE_MESSAGES, 3),
                role(ROLE_HELPER, "Helper", VIEW_AND_SEND | MANAGE_MESSAGES, 2),
                role(ROLE_ESCALATE, "Team leads", VIEW_AND_SEND, 1),
            ]
            channels = [self.channel(c) for c in (HELP, GENERAL, REVIEW, OFFTOPIC, FORUM)]
            threads = [self.channel(THREAD), self.channel(FORUM_POST)]
        return {
            "id": guild_id,
            "name": "Second" if guild_id == GUILD2 else "L'Atelier",
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "owner_id": "1300000000000000999",
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 1,
            "default_message_notifications": 1,
            "explicit_content_filter": 2,
            "roles": roles,
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "vanity_url_code": None,
            "description": None,
            "banner": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": "fr",
            "public_updates_channel_id": None,
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
            "safety_alerts_channel_id": None,
            "joined_at": "2025-01-01T00:00:00+00:00",
            "large": False,
            "unavailable": False,
            "member_count": len(self.users),
            "voice_states": [],
            "members": [{**self.member(BOT), "user": BOT.payload()}],
            "channels": channels,
            "threads": threads,
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }

    def message(
        self,
        author: User,
        channel_id: str,
        content: str,
        *,
        message_id: str | None = None,
        reply_to: str | None = None,
        mentions: tuple[User, ...] = (),
        webhook: bool = False,
    ) -> dict[str, Any]:
        """A MESSAGE_CREATE payload as Discord sends it to a bot in a guild."""
        guild = self.guild_of(channel_id)
        payload: dict[str, Any] = {
            "id": message_id or self.snowflake(),
            "type": 19 if reply_to else 0,
            "channel_id": channel_id,
            "guild_id": guild,
            "author": author.payload(),
            "member": self.member(author, guild=guild),
            "content": content,
            "timestamp": self.now().astimezone(UTC).isoformat(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [{**u.payload(), "member": self.member(u, guild=guild)} for u in mentions],
            "mention_roles": [],
            "mention_channels": [],
            "attachments": [],
            "embeds": [],
            "components": [],
            "pinned": False,
            "flags": 0,
            "nonce": None,
        }
        if reply_to:
            payload["message_reference"] = {
                "type": 0,
                "message_id": reply_to,
                "channel_id": channel_id,
                "guild_id": guild,
            }
            payload["referenced_message"] = self.messages.get(reply_to)
        if webhook:
            payload["webhook_id"] = "1300000000000000777"
        return payload

    # ------------------------------------------------------------------ members act

    async def say(self, author: User, channel_id: str, content: str, **kw: Any) -> dict[str, Any]:
        """A member posts a message; the bot receives MESSAGE_CREATE."""
        payload = self.message(author, channel_id, content, **kw)
        self.messages[payload["id"]] = payload
        await self.dispatch("MESSAGE_CREATE", payload)
        return payload

    async def edit(self, message_id: str, content: str) -> dict[str, Any]:
        """A member edits a message; MESSAGE_UPDATE carries the whole message."""
        payload = {
            **self.messages[message_id],
            "content": content,
            "edited_timestamp": self.now().isoformat(),
        }
        self.messages[message_id] = payload
        await self.dispatch("MESSAGE_UPDATE", payload)
        return payload

    async def delete(self, message_id: str) -> None:
        """A member deletes a message; MESSAGE_DELETE carries only ids."""
        payload = self.messages.pop(message_id)
        await self.dispatch(
            "MESSAGE_DELETE",
            {
                "id": message_id,
                "channel_id": payload["channel_id"],
                "guild_id": self.guild_of(payload["channel_id"]),
            },
        )

    def _interaction(
        self,
        kind: int,
        user: User,
        channel_id: str,
        data: dict[str, Any],
        message: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        interaction_id = self.snowflake()
        token = f"itok-{interaction_id}"
        guild = self.guild_of(channel_id)
        payload: dict[str, Any] = {
            "id": interaction_id,
            "application_id": APP_ID,
            "type": kind,
            "data": data,
            "guild_id": guild,
            "guild": {"id": guild, "locale": "fr", "features": []},
            "channel_id": channel_id,
            "channel": self.channel(channel_id),
            "member": self.member(user, permissions=True, guild=guild),
            "token": token,
            "version": 1,
            "app_permissions": str(VIEW_AND_SEND),
            "locale": "en-US",
            "guild_locale": "fr",
            "entitlements": [],
            "authorizing_integration_owners": {"0": guild},
            "context": 0,
            "attachment_size_limit": 10485760,
        }
        if message is not None:
            payload["message"] = message
        self._tokens[token] = payload
        return payload

    async def press(
        self, user: User, message_id: str, custom_id: str, *, forge: bool = False
    ) -> str:
        """`user` presses the button `custom_id` on a message; return the interaction id.

        With `forge`, the button need not exist: the message is sent with it added, as a
        modified client could claim.
        """
        message = json.loads(json.dumps(self.messages[message_id]))
        found = any(
            c.get("custom_id") == custom_id
            for row in message.get("components", [])
            for c in row.get("components", [])
        )
        if not found:
            assert forge, f"no button {custom_id!r} on message {message_id}"
            message.setdefault("components", []).append(
                {"type": 1, "components": [{"type": 2, "style": 2, "custom_id": custom_id}]}
            )
        payload = self._interaction(
            3,
            user,
            message["channel_id"],
            {"custom_id": custom_id, "component_type": 2},
            message,
        )
        await self.dispatch("INTERACTION_CREATE", payload)
        return str(payload["id"])

    async def submit_modal(
        self,
        user: User,
        custom_id: str,
        values: dict[str, str],
        *,
        channel_id: str = REVIEW,
        message_id: str | None = None,
    ) -> str:
        """`user` submits a modal with these text values; return the interaction id."""
        data = {
            "custom_id": custom_id,
            "components": [
                {"type": 1, "components": [{"type": 4, "custom_id": k, "value": v}]}
                for k, v in values.items()
            ],
        }
        message = self.messages.get(message_id) if message_id else None
        payload = self._interaction(5, user, channel_id, data, message)
        await self.dispatch("INTERACTION_CREATE", payload)
        return str(payload["id"])

    async def slash(self, user: User, name: str, options: dict[str, Any] | None = None) -> str:
        """`user` runs a slash command in the review channel; return the interaction id."""
        data: dict[str, Any] = {
            "id": self.snowflake(),
            "name": name,
            "type": 1,
            "options": [
                {"name": k, "type": 4 if isinstance(v, int) else 3, "value": v}
                for k, v in (options or {}).items()
            ],
        }
        payload = self._interaction(2, user, REVIEW, data)
        await self.dispatch("INTERACTION_CREATE", payload)
        return str(payload["id"])

    # ------------------------------------------------------------------ gateway

    async def dispatch(self, event: str, data: dict[str, Any]) -> int:
        """Record an event in the session and send it if the client is connected."""
        assert self.session is not None, "no gateway session yet"
        seq = self.session.seq + 1
        frame = {"op": 0, "t": event, "s": seq, "d": data}
        self.session.frames.append(frame)
        if self._live and self._ws is not None and not self._ws.closed:
            await self._ws.send_str(json.dumps(frame))
        return seq

    async def drop(self, code: int = 4000) -> None:
        """Close the client's websocket as a network failure would; events queue up."""
        self._live = False
        if self._ws is not None:
            await self._ws.close(code=code, message=b"fake disconnect")

    async def invalidate(self) -> None:
        """Send op 9 (invalid session, not resumable): the client IDENTIFIEs anew.

        Events from now on queue in the dead session and are never replayed, as on Discord:
        only reading the channels' history brings them back.
        """
        self._live = False
        assert self._ws is not None
        await self._ws.send_json({"op": 9, "d": False, "s": None, "t": None})

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._ws = ws
        await ws.send_json({"op": 10, "d": {"heartbeat_interval": 41250}, "s": None, "t": None})
        async for msg in ws:
            if msg.type is not WSMsgType.TEXT:
                continue
            frame = json.loads(msg.data)
            if frame["op"] == 1:
                await ws.send_json({"op": 11, "d": None, "s": None, "t": None})
            elif frame["op"] == 2:
                await self._identify(ws, frame["d"])
            elif frame["op"] == 6:
                await self._resume(ws, frame["d"])
            await self._notify()
        if self._ws is ws:
            self._live = False
        return ws

    async def _identify(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> None:
        self.identifies.append(data)
        assert data["token"] == TOKEN
        wants_content = data["intents"] & MESSAGE_CONTENT_INTENT
        if wants_content and (self.refuse_content_intent or not self.message_content):
            await ws.close(code=4014, message=b"Disallowed intent(s).")
            return
        self.session = Session(f"fake-session-{next(self._sessions)}")
        self._live = True
        await self.dispatch(
            "READY",
            {
                "v": 10,
                "user": {**BOT.payload(), "verified": True, "mfa_enabled": False, "flags": 0},
                "guilds": [{"id": g, "unavailable": True} for g in self.guild_ids],
                "session_id": self.session.id,
                "resume_gateway_url": self.base_url.replace("http", "ws", 1) + "/gateway",
                "application": {"id": APP_ID, "flags": self._app_flags()},
                "private_channels": [],
                "relationships": [],
                "presences": [],
                "guild_join_requests": [],
                "geo_ordered_rtc_regions": [],
                "auth": {},
                "user_settings": {},
                "session_type": "normal",
                "shard": [0, 1],
            },
        )
        for guild_id in self.guild_ids:
            await self.dispatch("GUILD_CREATE", self.guild(guild_id))

    async def _resume(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> None:
        self.resumes.append(data)
        assert data["token"] == TOKEN
        if self.session is None or data["session_id"] != self.session.id:
            await ws.send_json({"op": 9, "d": False, "s": None, "t": None})
            return
        start = int(data["seq"]) if self.replay_from is None else self.replay_from - 1
        for frame in self.session.frames[start:]:
            await ws.send_str(json.dumps(frame))
        self._live = True
        await self.dispatch("RESUMED", {})

    # ------------------------------------------------------------------ REST

    def _app_flags(self) -> int:
        return GATEWAY_MESSAGE_CONTENT_LIMITED if self.message_content else 0

    async def _record(self, request: web.Request) -> Any:
        body: Any = None
        if request.can_read_body:
            raw = await request.read()
            body = json.loads(raw) if raw else None
        self.requests.append((request.method, request.path, body))
        return body

    def _error(self, failure: Failure) -> web.Response:
        return _json(failure.body, status=failure.status, headers=failure.headers)

    async def _me(self, request: web.Request) -> web.Response:
        await self._record(request)
        if request.headers.get("Authorization") != f"Bot {TOKEN}":
            return _json({"message": "401: Unauthorized", "code": 0}, status=401)
        return _json({**BOT.payload(), "verified": True, "mfa_enabled": False})

    async def _application(self, request: web.Request) -> web.Response:
        await self._record(request)
        return _json(
            {
                "id": APP_ID,
                "name": "Huitaine",
                "icon": None,
                "description": "",
                "bot_public": False,
                "bot_require_code_grant": False,
                "owner": ALICE.payload(),
                "team": None,
                "verify_key": "0" * 64,
                "flags": self._app_flags(),
                "summary": "",
                "type": None,
                "bot": BOT.payload(),
            }
        )

    async def _gateway_bot(self, request: web.Request) -> web.Response:
        await self._record(request)
        return _json(
            {
                "url": self.base_url.replace("http", "ws", 1) + "/gateway",
                "shards": 1,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 999,
                    "reset_after": 0,
                    "max_concurrency": 1,
                },
            }
        )

    def _bot_message(self, channel_id: str, body: dict[str, Any]) -> dict[str, Any]:
        reference = body.get("message_reference")
        payload: dict[str, Any] = {
            "id": self.snowflake(),
            "type": 19 if reference else 0,
            "channel_id": channel_id,
            "guild_id": self.guild_of(channel_id),
            "author": BOT.payload(),
            "content": body.get("content") or "",
            "timestamp": self.now().isoformat(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": body.get("embeds") or [],
            "components": body.get("components") or [],
            "pinned": False,
            "flags": int(body.get("flags", 0)),
        }
        if reference:
            payload["message_reference"] = {**reference, "type": 0}
        if body.get("nonce") is not None:
            payload["nonce"] = body["nonce"]
        return payload

    async def _create_message(self, request: web.Request) -> web.Response:
        body = await self._record(request)
        channel_id = request.match_info["channel"]
        failure = self._failure(request)
        if failure is not None and not failure.apply_first:
            await self._notify()
            return self._error(failure)
        nonce = body.get("nonce")
        if body.get("enforce_nonce") and nonce in self._nonces:
            # Discord's documented behaviour: the earlier message is returned, none is created.
            existing = self.messages[self._nonces[nonce]]
            await self._notify()
            return _json(existing)
        payload = self._bot_message(channel_id, body)
        self.messages[payload["id"]] = payload
        self.posts.append(Post(payload, body))
        if nonce is not None:
            self._nonces[nonce] = payload["id"]
        if self.session is not None:
            await self.dispatch("MESSAGE_CREATE", payload)  # bots see their own messages
        await self._notify()
        if failure is not None:
            return self._error(failure)
        return _json(payload)

    async def _edit_message(self, request: web.Request) -> web.Response:
        body = await self._record(request)
        message_id = request.match_info["message"]
        failure = self._failure(request)
        if failure is not None:
            await self._notify()
            return self._error(failure)
        if message_id not in self.messages:
            await self._notify()
            return _json({"message": "Unknown Message", "code": 10008}, status=404)
        payload = self.messages[message_id]
        for key in ("content", "embeds", "components"):
            if key in body:
                payload[key] = body[key]
        payload["edited_timestamp"] = self.now().isoformat()
        if self.session is not None:
            await self.dispatch("MESSAGE_UPDATE", payload)
        await self._notify()
        return _json(payload)

    async def _history(self, request: web.Request) -> web.Response:
        """GET /channels/{id}/messages: at most `limit` (1 to 100) messages, newest first.

        With `after`, the oldest `limit` messages after that id, still newest first (Discord's
        order; discord.py reverses the page for oldest_first). REST messages carry neither
        `guild_id` nor `member`: those come only with gateway events.
        """
        await self._record(request)
        channel_id = request.match_info["channel"]
        limit = max(1, min(100, int(request.query.get("limit", "50"))))
        found = sorted(
            (m for m in self.messages.values() if m["channel_id"] == channel_id),
            key=lambda m: int(m["id"]),
        )
        if "after" in request.query:
            after = int(request.query["after"])
            page = [m for m in found if int(m["id"]) > after][:limit]
        else:
            page = found[-limit:]
        strip = ("guild_id", "member")
        return _json([{k: v for k, v in m.items() if k not in strip} for m in reversed(page)])

    async def _get_message(self, request: web.Request) -> web.Response:
        await self._record(request)
        message = self.messages.get(request.match_info["message"])
        if message is None:
            return _json({"message": "Unknown Message", "code": 10008}, status=404)
        return _json(message)

    async def _callback(self, request: web.Request) -> web.Response:
        body = await self._record(request)
        interaction_id, token = request.match_info["iid"], request.match_info["token"]
        interaction = self._tokens.get(token)
        if interaction is None or interaction["id"] != interaction_id:
            await self._notify()
            return _json({"message": "Unknown interaction", "code": 10062}, 404)
        if self.callback_for(interaction_id) is not None:
            await self._notify()
            return _json(
                {"message": "Interaction has already been acknowledged.", "code": 40060}, 400
            )
        kind, data = int(body["type"]), body.get("data") or {}
        self.callbacks.append(Callback(interaction_id, kind, data))
        result: dict[str, Any] = {
            "interaction": {
                "id": interaction_id,
                "type": interaction["type"],
                "response_message_loading": kind == 5,
                "response_message_ephemeral": bool(int(data.get("flags", 0)) & EPHEMERAL),
            }
        }
        if kind in (4, 5):
            message = self._bot_message(interaction["channel_id"], data)
            message["interaction_metadata"] = {
                "id": interaction_id,
                "type": interaction["type"],
                "user": interaction["member"]["user"],
                "authorizing_integration_owners": {"0": interaction["guild_id"]},
            }
            self.messages[message["id"]] = message
            self._originals[token] = message["id"]
            result["interaction"]["response_message_id"] = message["id"]
            result["resource"] = {"type": kind, "message": message}
        await self._notify()
        return _json(result)

    async def _webhook_edit(self, request: web.Request) -> web.Response:
        body = await self._record(request)
        token = request.match_info["token"]
        message_id = request.match_info["message"]
        if message_id == "@original":
            message_id = self._originals.get(token, "")
        message = self.messages.get(message_id)
        if message is None:
            await self._notify()
            return _json({"message": "Unknown Message", "code": 10008}, status=404)
        for key in ("content", "embeds", "components"):
            if key in body:
                message[key] = body[key]
        self.webhook_edits.append((token, body))
        await self._notify()
        return _json(message)

    async def _followup(self, request: web.Request) -> web.Response:
        body = await self._record(request)
        interaction = self._tokens.get(request.match_info["token"])
        if interaction is None:
            await self._notify()
            return _json({"message": "Unknown Webhook", "code": 10015}, status=404)
        message = self._bot_message(interaction["channel_id"], body)
        self.messages[message["id"]] = message
        self.webhook_edits.append((request.match_info["token"], body))
        await self._notify()
        return _json(message)

    async def _sync(self, request: web.Request) -> web.Response:
        body = await self._record(request)
        self.commands_synced.extend(command["name"] for command in body)
        await self._notify()
        return _json(
            [
                {
                    **command,
                    "id": self.snowflake(),
                    "application_id": APP_ID,
                    "version": self.snowflake(),
                    "default_member_permissions": command.get("default_member_permissions"),
                    "type": command.get("type", 1),
                    "description": command.get("description", ""),
                    "dm_permission": command.get("dm_permission", True),
                    "nsfw": False,
                }
                for command in body
            ]
        )

    async def _unknown(self, request: web.Request) -> web.Response:
        await self._record(request)
        _LOGGER.error("fake Discord: unexpected %s %s", request.method, request.path)
        await self._notify()
        return _json({"message": "404: Not Found", "code": 0}, status=404)


def _text_channel(channel_id: str, guild: str, name: str, position: int) -> dict[str, Any]:
    """A guild text channel object, in Discord's shape."""
    return {
        "id": channel_id,
        "type": 0,
        "guild_id": guild,
        "name": name,
        "position": position,
        "permission_overwrites": [],
        "nsfw": False,
        "parent_id": None,
        "topic": None,
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "flags": 0,
    }
