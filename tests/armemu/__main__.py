"""Run the emulator standalone: `python -m tests.armemu [--port N] [--state-dir DIR]`.

Prints one JSON line {"ready": true, "arm_url", "arm_port", "identity_url", "identity_port", "ca_path", ...} on
stdout once both servers listen (and writes it to --ready-file), then nothing more on stdout. Stops on
SIGTERM/SIGINT, or when stdin reaches EOF with --exit-with-stdin (so it never outlives the process that started it).
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import threading

from .server import Emulator


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.armemu", description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0, help="HTTPS ARM port (0 = pick a free one)")
    ap.add_argument("--identity-port", type=int, default=0, help="plain-HTTP token endpoint port (0 = free)")
    ap.add_argument("--state-dir", help="where ca.pem (and ready.json) go; default: a new temp dir")
    ap.add_argument("--ready-file", help="also write the ready JSON to this file")
    ap.add_argument("--config", default="{}", help="initial config as JSON (kept across /_emu/reset)")
    ap.add_argument("--exit-with-stdin", action="store_true", help="exit when stdin is closed")
    ap.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = ap.parse_args(argv)
    state_dir = args.state_dir or tempfile.mkdtemp(prefix="armemu-")
    emu = Emulator(state_dir, args.host, args.port, args.identity_port, json.loads(args.config), args.verbose)
    emu.start()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    if args.exit_with_stdin:
        def watch_stdin() -> None:
            while sys.stdin.buffer.read(4096):
                pass
            stop.set()
        threading.Thread(target=watch_stdin, daemon=True).start()
    ready = json.dumps({"ready": True, **emu.info()})
    if args.ready_file:
        tmp = args.ready_file + ".tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(ready + "\n")
        os.replace(tmp, args.ready_file)
    sys.stdout.write(ready + "\n")
    sys.stdout.flush()
    while not stop.wait(0.5):
        pass
    emu.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
