"""Microsoft Teams: the adapter (Microsoft 365 Agents SDK) and the app package."""
