"""privacy scan: what an earlier guard let into the store is replaced (rule 1, issue 18)

The guard now reads a personnummer beside other digits and behind any separator. Units, room names,
recipients' labels, preferences, waiting jobs and kept replies that hold one are replaced by a
neutral text or removed (``bot.services.privacy_scan``). A live room whose name on the CMS holds one
is logged by its space id for an admin to rename or delete; ``distansmote privacy scan`` lists them.

Revision ID: 0009
Revises: 0008
"""

import logging
from datetime import date

from alembic import op

from bot.services.privacy import PersonalNumberGuard
from bot.services.privacy_scan import Neutral, scan
from cards import texts

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")


def upgrade() -> None:
    found = scan(op.get_bind(), PersonalNumberGuard(date.today), fix=True,
                 neutral=Neutral(texts.REMOVED_UNIT, texts.REMOVED_LABEL))
    for finding in found:
        if finding.live_space_id:
            log.warning("live room %s held a personal identity number in its name: now %r in the bot; rename or "
                        "delete it on the CMS", finding.live_space_id, finding.renamed_to)
    if found:
        log.warning("privacy scan: %d place(s) with a personal identity number replaced", len(found))


def downgrade() -> None:
    pass  # what was removed is not put back
