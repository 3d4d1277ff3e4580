"""Commands of this group (being written; see the open issue)."""

COMMANDS: list = []
