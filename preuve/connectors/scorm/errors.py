"""Errors of the SCORM readers: each names the file, the place in it and what was expected."""

from __future__ import annotations

from preuve.i18n import Text

MSG_WHERE = Text(fr="{file}, {where} : {message}", en="{file}, {where}: {message}")
MSG_NO_WHERE = Text(fr="{file} : {message}", en="{file}: {message}")
MSG_LINE = Text(fr="ligne {line}", en="line {line}")
MSG_ROOT = Text(fr="racine du document", en="document root")


def line_label(line: int | str) -> str:
    """How messages name a line of a file, in the user's language."""
    return MSG_LINE(line=line)


class ScormError(Exception):
    """A SCORM file (or one part of it) that cannot be read.

    ``where`` names the line, element or zip member; ``code`` is stable for
    programs, the message is for the admin (French first).
    """

    def __init__(self, file: str, message: str, *, where: str | None = None, code: str) -> None:
        self.file = file
        self.where = where
        self.code = code
        self.detail = message
        text = (
            MSG_WHERE(file=file, where=where, message=message)
            if where
            else MSG_NO_WHERE(file=file, message=message)
        )
        super().__init__(text)

    @property
    def item(self) -> str:
        """How the run log names the item: the file, and the place when known."""
        return f"{self.file}, {self.where}" if self.where else self.file


class UnsafePackageError(ScormError):
    """A package refused for safety (traversal, links, bomb, DTD/entities)."""
