"""Running design evaluations: in this process, on local worker processes, or on a Dask cluster.

Every runner takes the same *problem* (the scenario without its design space, shipped to
each worker once) and a batch of designs, and yields ``(design_id, record)`` as tasks
finish. Dask gives the distribution, retries and fault tolerance:

* local (default): a ``dask.distributed.LocalCluster`` of single-threaded worker processes
  on this machine, no server to start; ``workers=1`` evaluates in this process instead;
* remote: ``scheduler="tcp://HOST:PORT"`` connects to a running cluster whose workers have
  constellation installed (the command line also reads ``$CONSTELLATION_SCHEDULER``).

The problem is scattered to every worker once (``broadcast=True``); each task then carries
only a design's satellite tables. A task lost with its worker is rerun elsewhere
(``retries``). Records are appended to a journal (JSON lines, flushed and fsynced per
record) as they arrive, so an interrupted sweep resumes without recomputing them.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from .. import __version__
from ..errors import ConstellationError
from ..scenario.build import scenario_from_dict
from .evaluate import evaluate_scenario

__all__ = ["DaskRunner", "Journal", "Problem", "SchedulerUnreachable", "SerialRunner", "evaluate_design",
           "make_runner"]

TASK_RETRIES = 3


class SchedulerUnreachable(ConnectionError):
    """No Dask scheduler answered at the address; the text says which and why."""


@dataclass(frozen=True)
class Problem:
    """What every evaluation shares: the scenario tables minus the design space."""

    base: dict  # parsed scenario file without designs/targets/sweep; satellites = the fixed fleet
    source: str  # the scenario file (relative paths resolve against it)
    key_slot_s: float = 1.0
    regions: tuple = ()  # RegionTarget specs to evaluate (region targets need coverage runs)

    @property
    def fingerprint(self) -> str:
        """Changes whenever an evaluation could change: scenario content, tool version and the
        package's own code (a resumed sweep never mixes results of different code)."""
        regions = [r.model_dump() for r in self.regions]
        text = json.dumps([__version__, code_digest(), self.base, self.key_slot_s, regions], sort_keys=True,
                          default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@functools.lru_cache(maxsize=1)
def code_digest() -> str:
    """SHA-256 of the package's Python sources and data tables (what evaluations compute with);
    the version number alone stays the same while the code changes."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.suffix in (".py", ".toml", ".csv", ".json") and path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


@functools.lru_cache(maxsize=1)
def _large_arrays_on_the_heap() -> bool:
    """Undo, in this process, the malloc setting Dask's nanny gives the workers it spawns.

    ``MALLOC_TRIM_THRESHOLD_`` (Dask's default for nanny workers, also on workers a user starts
    with ``dask worker``) switches off glibc's adaptive mmap threshold, so every array above
    128 kB is mmapped and unmapped again: evaluations ran 1.7-2x slower (docs/benchmarks.md).
    Where the variable is set, fix the thresholds where the adaptive ones settle for our arrays
    (mmap above 32 MiB, trim above 64 MiB) with ``mallopt``; elsewhere change nothing. True
    when the thresholds were set."""
    if "MALLOC_TRIM_THRESHOLD_" not in os.environ:
        return False
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        m_trim_threshold, m_mmap_threshold = -1, -3   # glibc's mallopt parameters
        return bool(libc.mallopt(m_mmap_threshold, 32 * 1024 * 1024)) and \
            bool(libc.mallopt(m_trim_threshold, 64 * 1024 * 1024))
    except (OSError, AttributeError):                  # not glibc: nothing to undo
        return False


def evaluate_design(problem: Problem, satellites: tuple) -> dict:
    """Metrics of the fleet plus ``satellites`` (a record; errors become ``{"error": ...}``)."""
    _large_arrays_on_the_heap()
    started = time.perf_counter()
    try:
        data = {**problem.base, "satellites": [*problem.base.get("satellites", []), *satellites]}
        metrics = evaluate_scenario(scenario_from_dict(data, source=problem.source), key_slot_s=problem.key_slot_s,
                                    regions=list(problem.regions))
    except ConstellationError as exc:
        return {"error": str(exc), "eval_s": time.perf_counter() - started}
    except Exception as exc:  # noqa: BLE001 - a design that breaks the model must not stop the sweep
        last = traceback.extract_tb(exc.__traceback__)[-1]
        return {"error": f"{type(exc).__name__}: {exc} ({Path(last.filename).name}:{last.lineno})",
                "eval_s": time.perf_counter() - started}
    metrics["eval_s"] = time.perf_counter() - started
    return metrics


class Journal:
    """Append-only JSON lines of finished evaluations, one per design id.

    Lines from another scenario or tool version (another fingerprint) and a torn last line
    (the process died while writing) are ignored.
    """

    def __init__(self, path: str | Path, fingerprint: str):
        self.path = Path(path)
        self.fingerprint = fingerprint

    def load(self) -> dict[str, dict]:
        records: dict[str, dict] = {}
        if not self.path.exists():
            return records
        with open(self.path, encoding="utf-8") as handle:
            for line in handle:
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(entry, dict) and entry.get("fingerprint") == self.fingerprint and "id" in entry:
                    records[entry["id"]] = entry["record"]
        return records

    def append(self, design_id: str, record: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"fingerprint": self.fingerprint, "id": design_id, "record": record}, default=_plain)
        with open(self.path, "a+b") as handle:
            # A run killed mid-write leaves a torn last line: end it, or it would swallow this one.
            handle.seek(0, os.SEEK_END)
            if handle.tell():
                handle.seek(-1, os.SEEK_END)
                if handle.read(1) != b"\n":
                    handle.write(b"\n")
            handle.write(line.encode("utf-8") + b"\n")
            handle.flush()
            os.fsync(handle.fileno())


def _plain(value):
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"not JSON: {type(value).__name__}")


class SerialRunner:
    """Evaluate in this process, one design after another."""

    name = "serial (this process)"
    n_workers = 1

    def __init__(self, problem: Problem):
        self.problem = problem

    def run(self, batch: list[tuple[str, tuple]]):
        for design_id, satellites in batch:
            yield design_id, evaluate_design(self.problem, satellites)

    def close(self) -> None:
        pass


class DaskRunner:
    """Evaluate on a Dask cluster: a new LocalCluster, or the scheduler at ``address``."""

    def __init__(self, problem: Problem, address: str | None = None, n_workers: int = 2):
        from distributed import Client, LocalCluster

        self.problem = problem
        self._cluster = None
        if address:
            try:
                self.client = Client(address, timeout="20s")
            except (OSError, ValueError, TypeError) as exc:  # unreachable, or not an address at all
                raise SchedulerUnreachable(f"{address} ({type(exc).__name__}: {exc})") from None
            self.name = f"dask scheduler {address}"
        else:
            import dask

            # Dask's default MALLOC_TRIM_THRESHOLD_ for workers also switches off glibc's
            # adaptive mmap threshold, so every large numpy array is mmapped and unmapped
            # again: evaluations ran 1.6x slower in workers than in-process, mostly in page
            # faults. Keep glibc's defaults; one BLAS/OpenMP thread per worker as Dask does.
            environ = {k: v for k, v in dask.config.get("distributed.nanny.pre-spawn-environ", {}).items()
                       if k != "MALLOC_TRIM_THRESHOLD_"}
            with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
                # The scheduler's HTTP server (dashboard, /health, /metrics) always starts: on a
                # free port, never a clash on 8787, and on the loopback interface only
                # (":0" listened on every interface). $CONSTELLATION_DASHBOARD chooses another
                # address, e.g. "0.0.0.0:8787" to reach it from elsewhere (docs/reliability.md).
                dashboard = os.environ.get("CONSTELLATION_DASHBOARD", "127.0.0.1:0")
                self._cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                                             host="127.0.0.1", dashboard_address=dashboard,
                                             silence_logs=logging.ERROR)
            self.client = Client(self._cluster)
            self.name = f"dask LocalCluster, {n_workers} worker processes"
        self.dashboard_link = self.client.dashboard_link
        self.n_workers = max(1, len(self.client.scheduler_info().get("workers", {})))
        # Sent once to every worker; tasks refer to it.
        self._problem_future = self.client.scatter(problem, broadcast=True, hash=False)

    def run(self, batch: list[tuple[str, tuple]]):
        from distributed import as_completed

        futures = {}
        for design_id, satellites in batch:
            future = self.client.submit(evaluate_design, self._problem_future, satellites, pure=False,
                                        retries=TASK_RETRIES, key=f"design-{design_id}-{os.urandom(4).hex()}")
            futures[future] = design_id
        for future in as_completed(list(futures)):
            design_id, record = futures.pop(future), future.result()
            # Let go of finished results at once: if a worker dies later, the scheduler
            # then reruns only what was still running or queued on it.
            future.release()
            del future
            yield design_id, record

    def close(self) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()


def make_runner(problem: Problem, workers: int | None = None, scheduler: str | None = None):
    """The runner the user asked for: a scheduler address, else local processes, else serial."""
    if scheduler:
        return DaskRunner(problem, address=scheduler)
    workers = workers if workers is not None else (os.cpu_count() or 1)
    if workers <= 1:
        return SerialRunner(problem)
    return DaskRunner(problem, n_workers=workers)
