"""A fake Telegram Bot API server on 127.0.0.1: real HTTP for the real python-telegram-bot.

It answers the methods Huitaine uses with Bot API JSON, records every call, keeps the messages
of each chat (so edits, replies and button presses refer to real message objects), serves
updates to long polling, and fails on demand: an error status (429 with retry_after, 400, 403)
or a connection dropped after the call took effect (the response is lost, the message posted).
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

TOKEN = "7000000001:AAF-fake-token-for-tests-only-0123456789"
BOT_USER: dict[str, Any] = {
    "id": 7000000001,
    "is_bot": True,
    "first_name": "Huitaine",
    "username": "huitaine_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": True,
    "supports_inline_queries": False,
    "can_connect_to_business": False,
    "has_main_web_app": False,
}
# Parameters that are plain strings even when they look like JSON ("42" as a reply text).
_STRING_PARAMS = frozenset({"text", "caption", "callback_query_id", "secret_token", "url"})
_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden"}
_REASONS |= {404: "Not Found", 429: "Too Many Requests", 500: "Internal Server Error"}


class ApiError(Exception):
    """A Bot API error answer."""

    def __init__(self, status: int, description: str, **parameters: Any) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


@dataclass
class Call:
    """One request the bot made."""

    method: str
    params: dict[str, Any]
    at: float
    status: int = 200
    result: Any = None


@dataclass
class Fault:
    """A failure to inject into the next matching calls."""

    method: str
    match: dict[str, Any]
    status: int = 0  # 0: drop the connection instead of answering
    description: str = ""
    retry_after: int | None = None
    times: int = 1
    apply_first: bool = True  # for drops: the call takes effect, then the answer is lost

    def matches(self, method: str, params: dict[str, Any]) -> bool:
        return method == self.method and all(params.get(k) == v for k, v in self.match.items())


@dataclass
class FakeBotApi:
    """The server; start() it, point PTB's base_url at `base_url`, and look at `calls`."""

    token: str = TOKEN
    now: Callable[[], float] = time.time
    poll_cap: float = 30.0
    calls: list[Call] = field(default_factory=list)
    chats: dict[int, dict[str, Any]] = field(default_factory=dict)
    messages: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    admins: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    answered: set[str] = field(default_factory=set)
    updates: list[dict[str, Any]] = field(default_factory=list)
    pushed_at: dict[int, float] = field(default_factory=dict)
    delivered_at: dict[int, float] = field(default_factory=dict)
    port: int = 0
    # Telegram Business: connections by id, as the Bot API describes them.
    business: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Telegram tells a business bot of the messages it sent on the account's behalf too.
    echo_business: bool = False

    def __post_init__(self) -> None:
        self._update_ids = itertools.count(850_000_001)
        self._callback_ids = itertools.count(4_611_686_018_427_387_001)
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._changed = asyncio.Condition()
        self._arrived = asyncio.Event()
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[Any]] = set()

    # -- server ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._connection, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def _connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            while True:
                request_line = await reader.readline()
                if not request_line:
                    return
                _, target, _ = request_line.decode("latin-1").split(" ", 2)
                headers: dict[str, str] = {}
                while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
                    name, _, value = line.decode("latin-1").partition(":")
                    headers[name.strip().casefold()] = value.strip()
                length = int(headers.get("content-length", "0"))
                body = await reader.readexactly(length) if length else b""
                answer = await self._dispatch(target, headers, body)
                if answer is None:
                    return  # dropped: close without a word
                status, payload = answer
                data = json.dumps(payload).encode()
                head = (
                    f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\n"
                    "Content-Type: application/json\r\n"
                    f"Content-Length: {len(data)}\r\n\r\n"
                )
                writer.write(head.encode() + data)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            return
        finally:
            self._connections.discard(task)
            writer.close()

    async def _dispatch(
        self, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, Any]] | None:
        path = target.split("?", 1)[0]
        prefix = f"/bot{self.token}/"
        if not path.startswith(prefix):
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        method = path[len(prefix) :]
        params = _params(headers.get("content-type", ""), body)
        call = Call(method, params, time.monotonic())
        fault = next((f for f in self.faults if f.matches(method, params)), None)
        if fault is not None:
            fault.times -= 1
            if fault.times <= 0:
                self.faults.remove(fault)
        try:
            if fault is not None and fault.status:
                extra = {"retry_after": fault.retry_after} if fault.retry_after is not None else {}
                raise ApiError(fault.status, fault.description or _REASONS[fault.status], **extra)
            handler = getattr(self, f"_api_{method}", None)
            if handler is None:
                raise ApiError(404, "Not Found")
            if fault is not None and not fault.apply_first:
                call.status = 0
                return None
            call.result = await handler(params)
        except ApiError as exc:
            call.status = exc.status
            await self._record(call)
            payload: dict[str, Any] = {
                "ok": False,
                "error_code": exc.status,
                "description": exc.description,
            }
            if exc.parameters:
                payload["parameters"] = exc.parameters
            return exc.status, payload
        await self._record(call)
        if fault is not None:
            call.status = 0
            return None  # it happened, but the bot will never know
        return 200, {"ok": True, "result": call.result}

    async def _record(self, call: Call) -> None:
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    # -- what tests look at -------------------------------------------------------------------

    def calls_to(self, method: str, **match: Any) -> list[Call]:
        return [
            c
            for c in self.calls
            if c.method == method and all(c.params.get(k) == v for k, v in match.items())
        ]

    def bot_messages(self, chat_id: int) -> list[dict[str, Any]]:
        return [
            m
            for (chat, _), m in sorted(self.messages.items())
            if chat == chat_id and m["from"]["id"] == BOT_USER["id"]
        ]

    async def wait_for(
        self, method: str, count: int = 1, *, within: float = 5.0, **match: Any
    ) -> list[Call]:
        def enough() -> bool:
            return len([c for c in self.calls_to(method, **match) if c.status == 200]) >= count

        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(enough)
        return [c for c in self.calls_to(method, **match) if c.status == 200]

    def fail(
        self,
        method: str,
        status: int,
        description: str = "",
        *,
        retry_after: int | None = None,
        times: int = 1,
        **match: Any,
    ) -> None:
        self.faults.append(Fault(method, match, status, description, retry_after, times))

    def drop(self, method: str, *, apply_first: bool = True, times: int = 1, **match: Any) -> None:
        self.faults.append(Fault(method, match, 0, "", None, times, apply_first))

    # -- the world: chats, people, messages, presses --------------------------------------------

    def add_chat(self, chat: dict[str, Any]) -> dict[str, Any]:
        self.chats[chat["id"]] = chat
        return chat

    def set_admins(self, chat_id: int, creator: dict[str, Any], *admins: dict[str, Any]) -> None:
        members: list[dict[str, Any]] = [
            {"status": "creator", "user": creator, "is_anonymous": False}
        ]
        for user in admins:
            members.append(
                {
                    "status": "administrator",
                    "user": user,
                    "can_be_edited": False,
                    "is_anonymous": False,
                    "can_manage_chat": True,
                    "can_delete_messages": True,
                    "can_manage_video_chats": True,
                    "can_restrict_members": True,
                    "can_promote_members": False,
                    "can_change_info": True,
                    "can_invite_users": True,
                    "can_post_stories": False,
                    "can_edit_stories": False,
                    "can_delete_stories": False,
                    "can_pin_messages": True,
                }
            )
        self.admins[chat_id] = members

    def _next_message_id(self, chat_id: int) -> int:
        counter = self._message_ids.setdefault(chat_id, itertools.count(4201))
        # Recorded payloads bring their own ids: never hand one out twice.
        while True:
            message_id = next(counter)
            if (chat_id, message_id) not in self.messages:
                return message_id

    def _chat(self, chat_id: int) -> dict[str, Any]:
        return copy.deepcopy(self.chats.get(chat_id, {"id": chat_id, "type": "supergroup"}))

    def push_update(self, update: dict[str, Any]) -> dict[str, Any]:
        update = copy.deepcopy(update)
        update["update_id"] = next(self._update_ids)
        for key in ("message", "edited_message", "business_message", "edited_business_message"):
            if key in update:
                message = update[key]
                self.messages[(message["chat"]["id"], message["message_id"])] = message
        self.updates.append(update)
        self.pushed_at[update["update_id"]] = time.monotonic()
        self._arrived.set()
        return update

    def say(
        self,
        chat_id: int,
        user: dict[str, Any],
        text: str,
        *,
        reply_to: int | None = None,
        thread: int | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """A person posts in a chat; returns the message as Telegram shows it."""
        message: dict[str, Any] = {
            "message_id": self._next_message_id(chat_id),
            "from": user,
            "chat": self._chat(chat_id),
            "date": int(self.now()),
            "text": text,
        }
        if thread is not None:
            message |= {"message_thread_id": thread, "is_topic_message": True}
        if reply_to is not None:
            message["reply_to_message"] = _shallow(self.messages[(chat_id, reply_to)])
        message |= extra
        pushed: dict[str, Any] = self.push_update({"message": message})["message"]
        return pushed

    def edit(self, chat_id: int, message_id: int, text: str) -> dict[str, Any]:
        message = copy.deepcopy(self.messages[(chat_id, message_id)])
        message |= {"text": text, "edit_date": int(self.now())}
        pushed: dict[str, Any] = self.push_update({"edited_message": message})["edited_message"]
        return pushed

    def press(self, user: dict[str, Any], chat_id: int, message_id: int, data: str) -> str:
        """A person presses a button (or forges one) on a message; returns the query id."""
        query_id = str(next(self._callback_ids))
        self.push_update(
            {
                "callback_query": {
                    "id": query_id,
                    "from": user,
                    "message": copy.deepcopy(self.messages[(chat_id, message_id)]),
                    "chat_instance": "-3458962301984512345",
                    "data": data,
                }
            }
        )
        return query_id

    # -- Telegram Business -------------------------------------------------------------------

    def connect_business(
        self,
        connection_id: str,
        owner: dict[str, Any],
        *,
        can_reply: bool = True,
        enabled: bool = True,
        legacy: bool = False,
    ) -> dict[str, Any]:
        """The owner connects the bot (or changes its rights, or disconnects it).

        `legacy` sends the shape of Bot API 7.2 to 8.x (a top-level `can_reply`); otherwise the
        `rights` object of Bot API 9.0 and later.
        """
        connection: dict[str, Any] = {
            "id": connection_id,
            "user": owner,
            "user_chat_id": owner["id"],
            "date": int(self.now()),
            "is_enabled": enabled,
        }
        if legacy:
            connection["can_reply"] = can_reply
        else:
            connection["rights"] = {
                "can_reply": can_reply,
                "can_read_messages": True,
                "can_delete_sent_messages": False,
                "can_delete_all_messages": False,
            }
        self.business[connection_id] = connection
        self.chats.setdefault(owner["id"], _private(owner))
        return self.push_update({"business_connection": connection})["business_connection"]

    def _business_message(
        self, connection_id: str, chat_id: int, sender: dict[str, Any], text: str
    ) -> dict[str, Any]:
        return {
            "message_id": self._next_message_id(chat_id),
            "from": sender,
            "chat": self._chat(chat_id),
            "date": int(self.now()),
            "business_connection_id": connection_id,
            "text": text,
        }

    def business_say(
        self,
        connection_id: str,
        customer: dict[str, Any],
        text: str,
        *,
        sender: dict[str, Any] | None = None,
        reply_to: int | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """A message in a customer's private chat with the business: from the customer, or
        from the business account itself (`sender` = the owner, typing in the app)."""
        chat_id = customer["id"]
        self.chats.setdefault(chat_id, _private(customer))
        message = self._business_message(connection_id, chat_id, sender or customer, text)
        if reply_to is not None:
            message["reply_to_message"] = _shallow(self.messages[(chat_id, reply_to)])
        message |= extra
        pushed: dict[str, Any] = self.push_update({"business_message": message})
        return dict(pushed["business_message"])

    def business_edit(self, chat_id: int, message_id: int, text: str) -> dict[str, Any]:
        message = copy.deepcopy(self.messages[(chat_id, message_id)])
        message |= {"text": text, "edit_date": int(self.now())}
        pushed = self.push_update({"edited_business_message": message})
        return dict(pushed["edited_business_message"])

    def business_delete(self, connection_id: str, chat_id: int, *message_ids: int) -> None:
        for message_id in message_ids:
            self.messages.pop((chat_id, message_id), None)
        self.push_update(
            {
                "deleted_business_messages": {
                    "business_connection_id": connection_id,
                    "chat": self._chat(chat_id),
                    "message_ids": list(message_ids),
                }
            }
        )

    def business_replies(self, chat_id: int) -> list[dict[str, Any]]:
        """What the bot sent in a customer's chat, in the business's name."""
        return [
            m
            for (chat, _), m in sorted(self.messages.items())
            if chat == chat_id and m.get("sender_business_bot", {}).get("id") == BOT_USER["id"]
        ]

    async def _api_getBusinessConnection(self, params: dict[str, Any]) -> Any:
        connection = self.business.get(str(params["business_connection_id"]))
        if connection is None:
            raise ApiError(400, "Bad Request: BUSINESS_CONNECTION_INVALID")
        return connection

    def _send_as_business(self, params: dict[str, Any], message: dict[str, Any]) -> None:
        connection = self.business.get(str(params["business_connection_id"]))
        if connection is None or not connection["is_enabled"]:
            raise ApiError(400, "Bad Request: BUSINESS_CONNECTION_INVALID")
        allowed = connection.get("rights", {}).get("can_reply", connection.get("can_reply"))
        if not allowed:
            raise ApiError(403, "Forbidden: bot can't reply on behalf of the business account")
        message |= {
            "from": connection["user"],
            "sender_business_bot": BOT_USER,
            "business_connection_id": connection["id"],
        }

    # -- the Bot API methods ----------------------------------------------------------------

    async def _api_getMe(self, params: dict[str, Any]) -> Any:
        return BOT_USER

    async def _api_deleteWebhook(self, params: dict[str, Any]) -> Any:
        return True

    async def _api_setWebhook(self, params: dict[str, Any]) -> Any:
        return True

    async def _api_getUpdates(self, params: dict[str, Any]) -> Any:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = min(float(params.get("timeout") or 0), self.poll_cap)
        # Updates below the offset are confirmed: Telegram forgets them.
        self.updates = [u for u in self.updates if u["update_id"] >= offset]
        if not self.updates and timeout > 0:
            self._arrived.clear()
            try:
                async with asyncio.timeout(timeout):
                    await self._arrived.wait()
            except TimeoutError:
                pass
        batch = self.updates[:limit]
        now = time.monotonic()
        for update in batch:
            self.delivered_at.setdefault(update["update_id"], now)
        return batch

    async def _api_getChat(self, params: dict[str, Any]) -> Any:
        chat_id = int(params["chat_id"])
        if chat_id not in self.chats:
            raise ApiError(400, "Bad Request: chat not found")
        # A ChatFullInfo: the chat plus what getChat adds to it.
        return self._chat(chat_id) | {"accent_color_id": 3, "max_reaction_count": 11}

    async def _api_getChatAdministrators(self, params: dict[str, Any]) -> Any:
        chat_id = int(params["chat_id"])
        if self._chat(chat_id)["type"] == "private":
            raise ApiError(400, "Bad Request: there are no administrators in the private chat")
        return self.admins.get(chat_id, [])

    async def _api_answerCallbackQuery(self, params: dict[str, Any]) -> Any:
        query_id = str(params["callback_query_id"])
        if query_id in self.answered:
            raise ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is "
                "invalid",
            )
        self.answered.add(query_id)
        return True

    async def _api_sendMessage(self, params: dict[str, Any]) -> Any:
        chat_id = int(params["chat_id"])
        text = str(params.get("text", ""))
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if len(text.encode("utf-16-le")) // 2 > 4096:
            raise ApiError(400, "Bad Request: message is too long")
        message: dict[str, Any] = {
            "message_id": self._next_message_id(chat_id),
            "from": BOT_USER,
            "chat": self._chat(chat_id),
            "date": int(self.now()),
            "text": text,
        }
        reply = params.get("reply_parameters")
        if reply:
            target = self.messages.get((chat_id, int(reply["message_id"])))
            if target is not None:
                message["reply_to_message"] = _shallow(target)
            elif not reply.get("allow_sending_without_reply"):
                raise ApiError(400, "Bad Request: message to be replied not found")
        if params.get("message_thread_id"):
            message |= {"message_thread_id": params["message_thread_id"], "is_topic_message": True}
        if params.get("entities"):
            message["entities"] = params["entities"]
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        if params.get("business_connection_id"):
            self._send_as_business(params, message)
        self.messages[(chat_id, message["message_id"])] = message
        if params.get("business_connection_id") and self.echo_business:
            self.updates.append(
                {"update_id": next(self._update_ids), "business_message": copy.deepcopy(message)}
            )
            self._arrived.set()
        return message

    def _stored(self, params: dict[str, Any], missing: str) -> dict[str, Any]:
        key = (int(params["chat_id"]), int(params["message_id"]))
        if key not in self.messages:
            raise ApiError(400, f"Bad Request: {missing}")
        return self.messages[key]

    async def _api_editMessageText(self, params: dict[str, Any]) -> Any:
        message = self._stored(params, "message to edit not found")
        markup = params.get("reply_markup")
        if message.get("text") == params.get("text") and message.get("reply_markup") == markup:
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the "
                "message",
            )
        message["text"] = params["text"]
        message["edit_date"] = int(self.now())
        if markup:
            message["reply_markup"] = markup
        else:
            message.pop("reply_markup", None)
        return message

    async def _api_editMessageReplyMarkup(self, params: dict[str, Any]) -> Any:
        message = self._stored(params, "message to edit not found")
        markup = params.get("reply_markup")
        if message.get("reply_markup") == markup:
            raise ApiError(400, "Bad Request: message is not modified")
        if markup:
            message["reply_markup"] = markup
        else:
            message.pop("reply_markup", None)
        return message

    async def _api_deleteMessage(self, params: dict[str, Any]) -> Any:
        self._stored(params, "message to delete not found")
        del self.messages[(int(params["chat_id"]), int(params["message_id"]))]
        return True


def _params(content_type: str, body: bytes) -> dict[str, Any]:
    if content_type.startswith("application/json"):
        return dict(json.loads(body or b"{}"))
    params: dict[str, Any] = {}
    for key, value in parse_qsl(body.decode(), keep_blank_values=True):
        if key in _STRING_PARAMS:
            params[key] = value
            continue
        try:
            params[key] = json.loads(value)
        except ValueError:
            params[key] = value
    return params


def _private(user: dict[str, Any]) -> dict[str, Any]:
    chat = {"id": user["id"], "type": "private", "first_name": user.get("first_name", "?")}
    if user.get("last_name"):
        chat["last_name"] = user["last_name"]
    if user.get("username"):
        chat["username"] = user["username"]
    return chat


def _shallow(message: dict[str, Any]) -> dict[str, Any]:
    # Telegram nests one level only: a replied-to message comes without its own reply.
    inner = copy.deepcopy(message)
    inner.pop("reply_to_message", None)
    return inner
