"""``make soak``: the simulation harness for long, with fresh seeds; prints the seed of any failure.

Each round runs ``tests/run/test_simulation.py`` for every provider with a new
``--hypothesis-seed`` (``CATALOG_SYNC_SOAK_EXAMPLES`` examples of up to ``CATALOG_SYNC_SOAK_STEPS``
steps), then prints what the examples did (steps, runs of each sort, kills, faults) and, for a
failure, the command that replays it.  ``make soak SOAK_ARGS="--rounds 20 --examples 50"``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

PROVIDERS = ("Royalti", "Keevault", "Jogg")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="seeds per provider")
    parser.add_argument("--examples", type=int, default=40, help="examples per seed")
    parser.add_argument("--steps", type=int, default=60, help="steps per example, at most")
    args = parser.parse_args(argv)
    log = Path(tempfile.mkdtemp(prefix="soak-")) / "examples.jsonl"
    failed: list[str] = []
    for round_ in range(args.rounds):
        for provider in PROVIDERS:
            seed = random.SystemRandom().randrange(2**32)
            replay = (
                f"CATALOG_SYNC_SOAK_EXAMPLES={args.examples} CATALOG_SYNC_SOAK_STEPS={args.steps} "
                f"{sys.executable} -m pytest -p no:cacheprovider tests/run/test_simulation.py -k {provider} "
                f"--hypothesis-seed={seed}"
            )
            env = {
                **os.environ,
                "CATALOG_SYNC_SOAK_EXAMPLES": str(args.examples),
                "CATALOG_SYNC_SOAK_STEPS": str(args.steps),
                "CATALOG_SYNC_SIM_LOG": str(log),
            }
            command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "timeout=0"]
            command += ["tests/run/test_simulation.py", "-k", provider, f"--hypothesis-seed={seed}"]
            done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
            verdict = "ok" if done.returncode == 0 else "FAILED"
            print(f"round {round_ + 1} {provider:<9} seed {seed:<10} {verdict}", flush=True)
            if done.returncode != 0:
                failed.append(replay)
                print(done.stdout[-6000:], flush=True)
    _tally(log)
    for replay in failed:
        print(f"replay: {replay}")
    return 1 if failed else 0


def _tally(log: Path) -> None:
    """What the examples did, per provider."""
    totals: dict[str, Counter[str]] = {}
    if log.exists():
        for line in log.read_text(encoding="utf-8").splitlines():
            entry = json.loads(line)
            tally = totals.setdefault(entry.pop("provider"), Counter())
            tally["examples"] += 1
            tally.update({k: int(v) for k, v in entry.items()})
    for provider, tally in sorted(totals.items()):
        shown = ", ".join(f"{k} {v}" for k, v in sorted(tally.items()))
        print(f"{provider}: {shown}")


if __name__ == "__main__":
    raise SystemExit(main())
