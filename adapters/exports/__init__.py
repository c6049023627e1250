"""Importers of chat-history exports: DiscordChatExporter, Telegram Desktop, JSONL."""
