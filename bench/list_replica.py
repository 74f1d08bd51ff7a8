"""The list benchmark without and with a streaming replica, on a pair of this run's own.

    .venv/bin/python bench/list_replica.py --requests 5000 --rounds 3 -- --only first --seconds 8

starts a PostgreSQL primary and its streaming replica in temporary folders (as the test suite
does, ``tests/replicas.py``: needs root and Debian's PostgreSQL binaries), migrates and seeds the
primary with ``xhsz demo --requests N``, waits for the replica to replay it, then runs
``bench/list.py`` against the primary alone and with ``--replica-url``, alternately, ``--rounds``
times (arguments after ``--`` go to ``bench/list.py``). Both clusters are removed afterwards.
"""

import argparse
import asyncio
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.replicas import streaming_pair  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=5000, help="requests to seed")
    parser.add_argument("--rounds", type=int, default=1, help="alternations of the two runs")
    parser.add_argument("rest", nargs="*", help="arguments for bench/list.py (after --)")
    options = parser.parse_args()
    xhsz = str(Path(sys.executable).with_name("xhsz"))
    with streaming_pair() as pair:
        environment = {**os.environ, "XHSZ_DATABASE_URL": pair.primary.url}
        subprocess.run([xhsz, "migrate"], env=environment, check=True, cwd=ROOT)
        subprocess.run(
            [xhsz, "demo", "--requests", str(options.requests)],
            env=environment,
            check=True,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        asyncio.run(pair.caught_up())
        print(f"# {options.requests:,} requests seeded; the replica has replayed them", flush=True)
        for _ in range(options.rounds):
            for replica in (None, pair.replica.url):
                command = [sys.executable, "bench/list.py", "--database-url", pair.primary.url]
                command += [*options.rest, *(["--replica-url", replica] if replica else [])]
                print(f"\n## {'with the replica' if replica else 'primary only'}", flush=True)
                subprocess.run(command, check=True, cwd=ROOT)


if __name__ == "__main__":
    main()
