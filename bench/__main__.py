"""`python -m bench [backend ...]`: run the named benchmarks (default: all)."""

from __future__ import annotations

import importlib
import sys

SUITES = [
    "voices",
    "backend",
    "realtime",
    "relay",
    "ui",
    "live_transcription",
    "translation",
    "audio_chat",
    "tools",
    "read_aloud",
    "llm",
    "load",
]


def main(argv: list[str]) -> int:
    for name in argv or SUITES:
        if name not in SUITES:
            print(f"unknown benchmark {name!r}; choose from: {', '.join(SUITES)}", file=sys.stderr)
            return 2
        importlib.import_module(f"bench.{name}").main()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
