"""``distansmote demo``: the bot on embedded parts, its chat page (a platform adapter), its clock and calls."""
