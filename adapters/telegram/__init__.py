"""Telegram adapter: python-telegram-bot in, review cards in the moderators' chat, replies out."""

from adapters.telegram.bot import TelegramAdapter, build

__all__ = ["TelegramAdapter", "build"]
