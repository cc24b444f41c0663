"""Errors a user can act on, kept apart from bugs (SPEC §7: exit 1 for bad input, 2 for usage)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Problem:
    """One problem in the user's input: where, what was found, how to fix it."""

    file: str
    message: str
    row: int | None = None        # row number as a spreadsheet shows it (header = 1)
    column: str | None = None
    value: object = None
    fix: str = ""
    severity: str = "error"       # "error" stops the run; "warning" is reported in the audit

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f" row {self.row}"
        if self.column:
            where += f", column {self.column}"
        text = f"{where}: {self.message}"
        if self.value is not None and str(self.value) != "":
            text += f' (found "{self.value}")'
        if self.fix:
            text += f". {self.fix}"
        return text


class InputError(Exception):
    """The user's input cannot be used; carries every problem found (lazy validation)."""

    def __init__(self, problems: list[Problem] | str):
        if isinstance(problems, str):
            problems = [Problem(file="", message=problems)]
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class UsageError(Exception):
    """The command was called wrongly (exit 2)."""
