"""cdt: deploy hotfixes, Jumbo Hotfix Accumulators and major version upgrades to fleets of
Check Point Security Gateways and cluster members, in ordered, cluster-aware batches.

It reads and writes the files of Check Point's Central Deployment Tool (the primary
configuration, deployment plans and candidates lists), generates and validates candidates
lists, and runs deployments journaled in a run folder (resumable after a crash) on a
simulated fleet, over SSH, or through a transport written in Python, with events,
cancellation and reports.

Every policy (ordering, cluster waves, failure budget, window, journal) lives in the Rust
library ``cdt-core``: Python behaves exactly as the command-line tool and the C library do.

Diagnostics go to the ``cdt`` logger (:mod:`logging`); errors are the exceptions of
:mod:`cdt.errors`.
"""

from __future__ import annotations

import logging

from . import errors
from ._cdt import (
    Candidate,
    CandidatesList,
    Config,
    Deployment,
    Event,
    Events,
    Fleet,
    Inventory,
    Package,
    Plan,
    Report,
    Secret,
    SshSettings,
    Step,
    __version__,
    generate,
    validate_edit,
)
from .errors import (
    AuthError,
    CandidatesError,
    CdtError,
    ConfigError,
    ConnectTimeout,
    Diagnostic,
    FileError,
    HostKeyError,
    InputError,
    InventoryError,
    JournalError,
    ManagementError,
    PackageError,
    PlanError,
    RolloutError,
    TooLargeError,
    TransportError,
    XmlError,
)

logging.getLogger("cdt").addHandler(logging.NullHandler())

__all__ = [
    "AuthError",
    "Candidate",
    "CandidatesError",
    "CandidatesList",
    "CdtError",
    "Config",
    "ConfigError",
    "ConnectTimeout",
    "Deployment",
    "Diagnostic",
    "Event",
    "Events",
    "FileError",
    "Fleet",
    "HostKeyError",
    "InputError",
    "Inventory",
    "InventoryError",
    "JournalError",
    "ManagementError",
    "Package",
    "PackageError",
    "Plan",
    "PlanError",
    "Report",
    "RolloutError",
    "Secret",
    "SshSettings",
    "Step",
    "TooLargeError",
    "TransportError",
    "XmlError",
    "__version__",
    "errors",
    "generate",
    "validate_edit",
]
