"""Fakes of remote services: small aiohttp servers that answer as the real APIs' public references say."""
