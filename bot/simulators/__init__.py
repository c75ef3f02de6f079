"""Fakes of remote services: small aiohttp servers following the notes in ``shared/contracts``."""
