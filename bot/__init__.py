"""Distansmöte: the distance-meeting routine as a chat bot."""


def installed_version() -> str:
    """The installed package's version (``--version``, the ``distansmote_build_info`` metric)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("distansmote")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"
