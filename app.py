"""Start the playground: ``python app.py [--host H] [--port P]`` (same as ``playground run``)."""

import sys

from playground.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["run", *sys.argv[1:]]))
