"""Every benchmark, one after another, each in its own interpreter; records the total wall time.

    python -m bench.run_all            # the reported numbers (about 2 hours on 2 quiet cores)
    python -m bench.run_all --quick    # every script at tiny sizes

``--quick`` and ``--output-dir`` are passed on to every script.
"""

from __future__ import annotations

import subprocess
import sys
import time

from bench import harness

SCRIPTS = ("throughput", "latency", "detectors", "training", "accuracy_variants")


def main() -> int:
    options = harness.parser(__doc__.split("\n\n")[0])
    options.add_argument("--scripts", nargs="*", default=list(SCRIPTS), choices=list(SCRIPTS))
    arguments = options.parse_args()
    forwarded = (["--quick"] if arguments.quick else []) + ["--output-dir", arguments.output_dir]
    started = time.perf_counter()
    table = harness.Table("Wall time of each benchmark script", ["script", "exit code", "seconds", "load average at end"])
    failed = False
    for script in arguments.scripts:
        print(f"== bench.{script} {' '.join(forwarded)}", flush=True)
        script_started = time.perf_counter()
        code = subprocess.call([sys.executable, "-m", f"bench.{script}", *forwarded], cwd=harness.REPOSITORY)
        table.add(script, code, time.perf_counter() - script_started, harness.load_average())
        failed |= code != 0
    total = time.perf_counter() - started
    table.notes.append(f"total: {total:.0f} s ({total / 60:.1f} min)")
    harness.write_report("run_all", "Full benchmark run", [table], machine=harness.machine_info(), arguments=arguments,
                         started=started, summary=[f"total wall time {total / 60:.1f} min"])
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
