"""The store: its schema (``schema``, ``queues``), engine and sessions (``engine``), migrations
(``migrations``), the transient-error rules (``transient``) and one-hop SQLite statements (``driver``).

Importing the package registers every table on ``Base.metadata``."""

from bot.store import queues as queues
from bot.store import schema as schema
