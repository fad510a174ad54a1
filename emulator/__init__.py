"""Local stand-in for Adobe IMS, AEP Flow Service and Zoho accounts/CRM (standard library only).

Used by the demo, the integration tests and the benchmarks::

    from emulator import Emulator, Fault

    with Emulator() as emu:            # loopback, free port
        emu.add_fault(Fault(method="POST", path=r"/connections$", kind="commit_then_drop"))
        ...                            # point clients at emu.url

Command line: ``python -m emulator --port 8787``.
"""

from __future__ import annotations

from .app import Emulator
from .config import EmulatorCredentials
from .faults import Fault
from .request_log import RecordedRequest

__all__ = ["Emulator", "EmulatorCredentials", "Fault", "RecordedRequest"]
