"""``python -m emulator``: serve in the foreground until SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from types import FrameType

from .app import Emulator


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m emulator",
        description="Local stand-in for Adobe IMS, AEP Flow Service and Zoho accounts/CRM (loopback only).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8787, help="port (0: any free port; default 8787)")
    parser.add_argument(
        "--run-duration", type=float, default=2.0, help="seconds a dataflow run takes to finish (default 2)"
    )
    parser.add_argument("--ready-file", help="write the base URL to this file once listening")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    parser.add_argument("--token-format", choices=("jwt", "opaque"), default="jwt",
                        help="jwt: tokens shaped like the real ones (default); opaque: no recognisable shape")
    parser.add_argument("--state-file", help="keep resources in this JSON file across restarts")
    args = parser.parse_args(argv)

    try:
        emulator = Emulator(host=args.host, port=args.port, run_duration=args.run_duration, verbose=args.verbose,
                            state_file=args.state_file, token_format=args.token_format)
        emulator.start()
    except (ValueError, OSError) as err:
        print(f"emulator: {err}", file=sys.stderr)
        return 2

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    if args.ready_file:  # written before the line, so a reader of either finds both
        try:
            partial = f"{args.ready_file}.tmp"
            with open(partial, "w", encoding="utf-8") as handle:
                handle.write(emulator.url + "\n")
            os.replace(partial, args.ready_file)  # readers never see a half-written file
        except OSError as err:
            print(f"emulator: cannot write the ready file: {err}", file=sys.stderr)
            emulator.stop()
            return 2
    print(f"emulator listening on {emulator.url}", flush=True)

    while not stop.wait(0.5):
        pass
    emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
