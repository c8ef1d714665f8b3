"""Typed errors and the exit codes they map to (DESIGN section 7).

Only ``cli.py`` turns these into output; every message names what went wrong, where (file:line:col,
query name, parameter) and how to fix it.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0  # success, or the data conforms
    PROBLEMS = 1  # ran and found problems: invalid data, refused contribution, failed query
    UNUSABLE = 2  # could not run: usage error, unreadable input, missing dependency


class KgtoolError(Exception):
    """Base of every error a user can act on."""

    exit_code: ExitCode = ExitCode.UNUSABLE

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class InputError(KgtoolError):
    """An input file or value cannot be used at all (missing, unreadable, malformed, hostile)."""

    exit_code = ExitCode.UNUSABLE


class InvalidTurtle(InputError):
    """A file of the project (``ontology/``, ``data/``) is not valid Turtle: the data is invalid, so the exit
    code is that of data that does not conform (1), and `kgtool validate` reports it as a finding."""

    exit_code = ExitCode.PROBLEMS

    def __init__(self, path: object, line: int | None, column: int | None, reason: str) -> None:
        where = ":".join([str(path), str(line or "?"), *([str(column)] if column else [])])
        super().__init__(f"{where}: invalid Turtle: {reason}")
        self.path, self.line, self.column, self.reason = str(path), line, column, reason


class UsageError(KgtoolError):
    """The command was called wrongly: unknown query, bad parameter, bad option combination."""

    exit_code = ExitCode.UNUSABLE


class ProjectError(KgtoolError):
    """The project layout (ontology/, data/, queries/) cannot be found or is broken."""

    exit_code = ExitCode.UNUSABLE


class QueryError(KgtoolError):
    """A query was valid usage but failed: syntax error in the query, evaluation error, time limit."""

    exit_code = ExitCode.PROBLEMS


class ValidationFailed(KgtoolError):
    """Data does not conform; carries the report so the caller can render it."""

    exit_code = ExitCode.PROBLEMS

    def __init__(self, message: str, report: object | None = None) -> None:
        super().__init__(message)
        self.report = report
