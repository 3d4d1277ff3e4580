"""What the provider contract suite runs against this provider's sandbox (see :class:`~catalog_sync.providers.info.Contract`)."""

from __future__ import annotations

from catalog_sync.providers.info import Contract

__all__ = ["CONTRACT"]

CONTRACT = Contract(
    row={
        "title": "Summer Vibes",
        "upc": "012345678905",
        "displayArtist": "John Doe",
        "type": "audio",
        "format": "single",
        "explicit": "Clean",
        "releaseDate": "2024-06-15T00:00:00Z",
        "totalTracks": "012",
        "reissue": "no",
        "c_line_year": "2024",
        "externalId": "EXT-9",
        "catalogNumber": "CAT-1",
    },
    change={"version": "Deluxe Edition"},
    invalid={"title": "Bad UPC", "upc": "12345"},
    invalid_code="VALIDATION_ERROR",
    create_path="POST /product",
    read=lambda p: p.list_remote(),
    test_key="RWAK_test_key_0003",
)
