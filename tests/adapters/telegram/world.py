"""The invented Telegram world the tests run in: chats, people, and the recorded payloads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

PAYLOADS = Path(__file__).resolve().parent / "payloads"

GROUP_ID = -1001234567890
FORUM_ID = -1001555000111
MOD_ID = -1009876543210
GROUP: dict[str, Any] = {"id": GROUP_ID, "title": "L'Atelier — entraide", "type": "supergroup"}
FORUM: dict[str, Any] = {
    "id": FORUM_ID,
    "title": "Atelier Forum",
    "username": "atelier_forum",
    "type": "supergroup",
    "is_forum": True,
}
MOD: dict[str, Any] = {"id": MOD_ID, "title": "Atelier — modération", "type": "supergroup"}

ALICE: dict[str, Any] = {
    "id": 111111111,
    "is_bot": False,
    "first_name": "Alice",
    "last_name": "Martin",
    "username": "alice_m",
    "language_code": "fr",
}
CAMILLE: dict[str, Any] = {
    "id": 222222222,
    "is_bot": False,
    "first_name": "Camille",
    "username": "camille_atelier",
    "language_code": "fr",
}
BOB: dict[str, Any] = {
    "id": 333333333,
    "is_bot": False,
    "first_name": "Bob",
    "username": "bob_b",
    "language_code": "en",
}
DOMINIQUE: dict[str, Any] = {"id": 444444444, "is_bot": False, "first_name": "Dominique"}
TOKEN_ENV = "HUITAINE_TEST_TELEGRAM_TOKEN"


def payload(name: str) -> dict[str, Any]:
    """A recorded update, as the Bot API sends it."""
    data: dict[str, Any] = json.loads((PAYLOADS / f"{name}.json").read_text(encoding="utf-8"))
    return data


# Telegram Business: Margaux runs a small shop and connected the bot to her business account;
# Léa is a customer writing to the shop in private; Hugo works at the shop; the shop's staff
# group is where cards go when the owner configures one.
BUSINESS_ID = "BAAd1Zr9Qfj0EAAAsUxWJXLv2aQ"
OWNER: dict[str, Any] = {
    "id": 555555555,
    "is_bot": False,
    "first_name": "Margaux",
    "last_name": "Petit",
    "username": "boutique_margaux",
    "language_code": "fr",
}
CUSTOMER: dict[str, Any] = {
    "id": 666666666,
    "is_bot": False,
    "first_name": "Léa",
    "last_name": "Roux",
    "language_code": "fr",
}
EMPLOYEE: dict[str, Any] = {"id": 777777777, "is_bot": False, "first_name": "Hugo"}
SHOP_STAFF_ID = -1004445556667
SHOP_STAFF: dict[str, Any] = {"id": SHOP_STAFF_ID, "title": "Boutique — équipe", "type": "group"}

# A second business on the same bot: Bob runs a bike repair shop and connected the bot to his
# own business account; Alice writes to it as a customer. Bob moderates his shop, not Margaux's.
BUSINESS2_ID = "BAAe7Kq2Xhv1FAAAtVyXMKw3bRk"
