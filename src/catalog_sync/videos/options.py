"""``catalog-sync options -p jogg avatars|voices|music|styles|credits``: the ids a user puts in a
video sheet, and the credits left to spend on videos.

Each list is read page by page, as the API pages it (``page``/``page_size``; each says how many
more in its own way), until it says there are no more (or ``max_pages``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from catalog_sync.providers.jogg.client import JoggProvider

__all__ = ["OPTION_KINDS", "OptionList", "list_options"]

PAGE_SIZE = 100


@dataclass(frozen=True)
class _Source:
    path: str
    key: str  # the list's name inside ``data``
    columns: tuple[str, ...]
    paged: bool = True
    extra: dict[str, Any] = field(default_factory=dict)  # constant columns (avatar type)


#: kind → the lists it reads (avatars: public ones, type 0, then custom ones, type 1).
OPTION_KINDS: dict[str, tuple[_Source, ...]] = {
    "avatars": (
        _Source("/v2/avatars/public", "avatars", ("id", "avatar_type", "name", "gender", "age", "style"),
                extra={"avatar_type": 0}),
        _Source("/v2/avatars/custom", "avatars", ("id", "avatar_type", "name", "gender", "age", "style"),
                extra={"avatar_type": 1}),
    ),
    "voices": (_Source("/v2/voices", "voices", ("voice_id", "name", "language", "gender", "age", "accent", "use_case")),),
    "music": (_Source("/v2/musics", "music", ("id", "name", "duration")),),
    "styles": (_Source("/v2/visual_styles", "visual_styles", ("id", "name"), paged=False),),
    "credits": (),  # not a list: GET /v2/user/remaining_quota, what videos spend
}  # fmt: skip
#: The sheet column each kind fills.
SHEET_COLUMN = {"avatars": "avatar_id", "voices": "voice_id", "music": "music_id", "styles": "visual_style",
                "credits": None}  # fmt: skip


@dataclass
class OptionList:
    """One kind's items (only the listed ``columns`` of each), and how many pages were read."""

    kind: str
    columns: list[str]
    items: list[dict[str, Any]]
    pages: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "sheet_column": SHEET_COLUMN[self.kind], "items": self.items}


def list_options(client: JoggProvider, kind: str, *, page_size: int = PAGE_SIZE) -> OptionList:
    """Every item of ``kind`` (``avatars``, ``voices``, ``music``, ``styles``) the account may use."""
    if kind == "credits":
        return OptionList(
            kind, ["remaining_credits"], [{"remaining_credits": client.remaining_credits()}], pages=1
        )
    sources = OPTION_KINDS[kind]
    columns = list(sources[0].columns)
    result = OptionList(kind, columns, [])
    for source in sources:
        page, more = 1, True
        while more and page <= client.max_pages:
            if source.paged:
                items, more = client.list_page(source.path, page, page_size, source.key)
            else:
                data = client.request("GET", source.path)
                items = [i for i in (data or {}).get(source.key) or [] if isinstance(i, dict)]
                more = False
            result.pages += 1
            result.items += [{c: {**item, **source.extra}.get(c, "") for c in columns} for item in items]
            page += 1
    return result


def fetch_options(target: Any, kind: str) -> OptionList:
    """Connect to ``target`` (a :class:`~catalog_sync.run.Target` of ``jogg``) and list ``kind``."""
    from catalog_sync.errors import ConfigError

    if target.provider != "jogg":
        raise ConfigError(
            f"the avatar, voice, music and style lists are JoggAI's (-p jogg), not {target.provider}'s"
        )
    if kind not in OPTION_KINDS:
        raise ConfigError(f"unknown list {kind!r}; choose from {', '.join(OPTION_KINDS)}")
    with target.connect() as client:
        return list_options(client, kind)
