"""The exceptions cdt raises, mirroring the error kinds of the Rust library.

Every exception is a :class:`CdtError`. Those about an input file carry where the problem
is: :attr:`CdtError.path`, :attr:`CdtError.line`, :attr:`CdtError.column` (XML) and
:attr:`CdtError.object` (the gateway, member or cluster a candidates-list row names), and
:attr:`CdtError.diagnostics` lists every problem found when there were several (an edited
candidates list is checked whole).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "AuthError",
    "CandidatesError",
    "CdtError",
    "ConfigError",
    "ConnectTimeout",
    "Diagnostic",
    "FileError",
    "HostKeyError",
    "InputError",
    "InventoryError",
    "JournalError",
    "ManagementError",
    "PackageError",
    "PlanError",
    "RolloutError",
    "TooLargeError",
    "TransportError",
    "XmlError",
]


@dataclass(frozen=True)
class Diagnostic:
    """One located problem in an input: ``FILE:LINE[:COL]: [object NAME: ]message``."""

    path: str | None
    """The file, or ``None`` for input given as text."""
    line: int
    """The line, from 1 (0 for an object built in code)."""
    column: int | None
    """The column in characters, from 1, for XML."""
    object: str | None
    """The object the problem concerns, when there is one."""
    message: str
    """What is wrong."""

    def __str__(self) -> str:
        where = f"{self.path or '<input>'}:{self.line}"
        if self.column is not None:
            where += f":{self.column}"
        obj = f"object {self.object}: " if self.object else ""
        return f"{where}: {obj}{self.message}"


class CdtError(Exception):
    """The root of every exception cdt raises."""

    kind: str
    """The Rust error kind (``"Plan"``, ``"Candidates"``, ``"Transport"``, ...)."""
    path: str | None
    """The file the first problem is in, when it came from a file."""
    line: int | None
    """The line of the first problem."""
    column: int | None
    """The column of the first problem (XML)."""
    object: str | None
    """The object the first problem concerns."""
    diagnostics: tuple[Diagnostic, ...]
    """Every problem found, in order."""
    host: str | None
    """The host a transport error concerns."""

    def __init__(
        self,
        message: str,
        *,
        kind: str = "",
        diagnostics: tuple[Diagnostic, ...] = (),
        path: str | None = None,
        host: str | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.diagnostics = tuple(diagnostics)
        first = self.diagnostics[0] if self.diagnostics else None
        self.path = first.path if first else path
        self.line = first.line if first else None
        self.column = first.column if first else None
        self.object = first.object if first else None
        self.host = host


class FileError(CdtError, OSError):
    """Reading or writing a file failed."""


class InputError(CdtError, ValueError):
    """An input (a file, or text or objects given in code) is malformed or breaks a rule."""


class TooLargeError(InputError):
    """An input is larger than its size cap."""


class XmlError(InputError):
    """An XML input is not well-formed, or uses a forbidden construct (DTD, entities)."""


class ConfigError(InputError):
    """A primary configuration (``CentralDeploymentTool.xml``) is invalid."""


class PlanError(InputError):
    """A deployment plan is invalid."""


class InventoryError(InputError):
    """An inventory or a simulated fleet description is invalid."""


class PackageError(InputError):
    """A package's kind and version cannot be derived from its name."""


class CandidatesError(InputError):
    """A candidates list is malformed, or an edited one breaks the rules."""


class RolloutError(CdtError):
    """A deployment cannot be built from its inputs, or was driven wrongly."""


class ManagementError(CdtError):
    """The Management Server could not be read."""


class JournalError(CdtError):
    """A run folder's journal is unreadable, held by another run, or cannot be written."""


class TransportError(CdtError):
    """A gateway could not be reached, or a copy to or from it failed."""


class HostKeyError(TransportError):
    """A host's key is unknown, changed or revoked."""


class AuthError(TransportError):
    """A host refused the credentials."""


class ConnectTimeout(TransportError, TimeoutError):
    """No connection to a host within the connect timeout."""
