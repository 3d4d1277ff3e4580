"""Alert URLs (Apprise): checked when ``catalog-sync.toml`` is read, shown with their secrets hidden."""

from __future__ import annotations

import warnings
from typing import Any

from catalog_sync.errors import ConfigError

__all__ = ["apprise_for", "check_url", "private_url"]


def apprise_for(url: str) -> Any:
    with warnings.catch_warnings():  # apprise's plugins import the deprecated imghdr (Python < 3.13)
        warnings.simplefilter("ignore", DeprecationWarning)
        import apprise

        notifier = apprise.Apprise()
        return notifier if notifier.add(url) else None


def check_url(url: str, where: str) -> None:
    """ConfigError (naming ``where`` and the URL's scheme only) when Apprise cannot use ``url``."""
    if apprise_for(url) is None:
        scheme = url.split("://", 1)[0] if "://" in url else "(none)"
        raise ConfigError(
            f"{where}: Apprise does not understand this URL (scheme {scheme!r}); see "
            "https://github.com/caronc/apprise/wiki for the URL of each service"
        )


def private_url(url: str) -> str:
    """``url`` as Apprise shows it with privacy on (secrets as ``****``), without its query."""
    notifier = apprise_for(url)
    if notifier is None or not len(notifier):
        return url.split("://", 1)[0] + "://…"
    return str(notifier[0].url(privacy=True)).split("?", 1)[0]
