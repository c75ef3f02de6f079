"""Platform adapters; the contract they follow is ``bot.core.adapter``."""
