"""Tried / clean for the bad inputs and faults of issue 18, on the package in a given folder.

    python benchmarks/fault_matrix.py [FOLDER]

FOLDER holds the ``constellation`` package to test (default: this repository; for an
earlier version, ``git archive COMMIT | tar -x -C /tmp/old`` and pass ``/tmp/old``). Runs,
each as ``python -m constellation`` in a fresh process: the 36 catalogue cases issue 18
added (``tests/test_error_catalogue.py``) and 14 fault cases (special files, read-only
targets in a private mount namespace -- root only, ``unshare -m`` --, a full disk by
``RLIMIT_FSIZE``, stale temporaries, two writers). Clean = exit 2 (0 for the special files
and the rerun) with at most three lines on stderr and no traceback, and nothing partial
left. Prints JSON: tried, clean, and the cases that were not clean. Takes ~2 minutes on the
current code; the old code spends minutes on some inputs (a span of 1800 or 2200)."""
import json, os, shutil, stat, subprocess, sys, tempfile, resource
from pathlib import Path
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
import test_error_catalogue as T  # noqa: E402

CODE = sys.argv[1] if len(sys.argv) > 1 else str(ROOT)  # folder holding the constellation package
env = {**os.environ, "PYTHONPATH": CODE}
NEW_IDS = [
    'raan-not-finite', 'bstar-not-finite', 'bstar-absurd', 'mean-anomaly-infinite',
    'argp-beyond-a-turn', 'mask-azimuth-not-finite', 'mask-azimuth-over-360', 'telescopes-zero',
    'seed-negative', 'seed-5000-digits', 'start-before-sputnik', 'start-1800', 'end-2200',
    'epoch-2200', 'span-far-from-elements', 'fibre-key-rate-infinite', 'geo-with-altitude',
    'ltan-with-inclination', 'tle-with-elements', 'name-10-kb', 'name-control-character',
    'station-name-bidi-override', 'scenario-name-carriage-return', 'toml-nested-too-deep',
    'tle-mean-motion-absurd', 'tle-eccentricity-absurd', 'omm-json-nested-too-deep',
    'omm-json-5000-digit-number', 'profile-time-1e300', 'cli-scenario-is-dev-zero',
    'cli-loss-profile-is-dev-zero', 'cli-plot-bad-extension', 'cli-output-empty',
    'cli-output-under-a-file', 'cli-output-is-a-folder',
]


def cli(args, cwd, fsize=None, unshare_ro=None):
    pre = None
    if fsize:
        pre = lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, resource.RLIM_INFINITY))
    cmd = [sys.executable, "-m", "constellation", *map(str, args)]
    if unshare_ro:
        q = " ".join(f"'{a}'" for a in cmd)
        cmd = ["unshare", "-m", "sh", "-c", f"mount -t tmpfs -o ro,size=1m tmpfs '{unshare_ro}' && exec {q}"]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd, preexec_fn=pre, timeout=600)


def one_line(p, code=2):
    lines = [l for l in p.stderr.splitlines() if l.strip()]
    return p.returncode == code and len(lines) <= 3 and "Traceback" not in p.stderr


results = {}
if len(sys.argv) > 2:  # a JSON file of results of an earlier, interrupted run to keep
    results = json.loads(Path(sys.argv[2]).read_text())
# 1. the new catalogue cases
for case in T.CATALOGUE:
    if case.id not in NEW_IDS or f"catalogue:{case.id}" in results:
        continue
    tmp = Path(tempfile.mkdtemp())
    args = T.arguments(case, tmp)
    p = cli(args, tmp)
    results[f"catalogue:{case.id}"] = one_line(p)
    print(json.dumps({f"catalogue:{case.id}": results[f"catalogue:{case.id}"]}), file=sys.stderr, flush=True)

# 2. fault cases
SHORT = T.GOOD
def fresh():
    tmp = Path(tempfile.mkdtemp())
    (tmp / "s.toml").write_text(SHORT)
    return tmp

tmp = fresh(); os.mkfifo(tmp / "fifo")
reader = subprocess.Popen(["cat", str(tmp / "fifo")], stdout=subprocess.PIPE)
p = cli(["passes", "s.toml", "-o", "fifo"], tmp)
try:
    got = reader.communicate(timeout=30)[0]
except subprocess.TimeoutExpired:  # the FIFO was replaced: its reader never gets data
    reader.kill()
    got = b""
results["fault:-o FIFO"] = p.returncode == 0 and stat.S_ISFIFO((tmp / "fifo").lstat().st_mode) and got.startswith(b"satellite")

# Devices of our own (never /dev/null or /dev/full themselves: the old code replaced them).
tmp = fresh(); os.mknod(tmp / "null", stat.S_IFCHR | 0o666, os.makedev(1, 3))  # /dev/null's numbers
p = cli(["passes", "s.toml", "-o", "null"], tmp)
results["fault:-o char device"] = p.returncode == 0 and stat.S_ISCHR((tmp / "null").lstat().st_mode)
tmp = fresh(); os.mknod(tmp / "full", stat.S_IFCHR | 0o666, os.makedev(1, 7))  # /dev/full's numbers
p = cli(["passes", "s.toml", "-o", "full"], tmp)
results["fault:-o a full device"] = one_line(p) and stat.S_ISCHR((tmp / "full").lstat().st_mode)

for name, args in [("passes", ["passes", "s.toml", "-o", "ro/p.csv"]), ("run", ["run", "s.toml", "-o", "ro/out"]),
                   ("plot", ["plot", "tracks", "s.toml", "-o", "ro/t.png"]), ("export", ["export", "czml", "s.toml", "-o", "ro/c.czml"]),
                   ("coverage --geojson", ["coverage", "s.toml", "--grid-deg", "10", "--geojson", "ro/f.geojson", "-o", "c.csv"])]:
    tmp = fresh(); (tmp / "ro").mkdir()
    p = cli(args, tmp, unshare_ro=tmp / "ro")
    results[f"fault:read-only {name}"] = one_line(p) and not (tmp / "c.csv").exists()

for name, args, extra in [("-o folder", ["passes", "s.toml", "-o", "d"], "d"), ("-o ''", ["passes", "s.toml", "-o", ""], None),
                          ("run -o file/sub", ["run", "s.toml", "-o", "f.txt/sub"], None)]:
    tmp = fresh(); (tmp / "d").mkdir(); (tmp / "f.txt").write_text("x")
    results[f"fault:{name}"] = one_line(cli(args, tmp))

for name, args in [("passes", ["passes", "s.toml", "-o", "out/p.csv"]), ("run", ["run", "s.toml", "-o", "out"])]:
    tmp = fresh()
    p = cli(args, tmp, fsize=100)
    results[f"fault:full disk {name}"] = one_line(p) and not (tmp / "out").exists()

tmp = fresh()
(tmp / "out").mkdir(); (tmp / "out" / ".passes.csv.k3j_9x2a.tmp").write_text("half"); (tmp / "out" / ".tracks.1234.tmp.png").write_text("x")
p = cli(["run", "s.toml", "--no-plots", "-o", "out"], tmp)
results["fault:rerun over stale temporaries"] = p.returncode == 0 and not list((tmp / "out").glob("*.tmp*"))

tmp = fresh(); (tmp / "o.toml").write_text(SHORT.replace('name = "t"', 'name = "o"').replace("T06:00", "T12:00"))
mixed = False
for trial in range(3):
    shutil.rmtree(tmp / "out", ignore_errors=True)
    procs = [subprocess.Popen([sys.executable, "-m", "constellation", "run", s, "--no-plots", "--force", "-o", "out"],
                              cwd=tmp, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for s in ("s.toml", "o.toml")]
    [p.wait(300) for p in procs]
    winner = json.loads((tmp / "out" / "summary.json").read_text())["scenario_file"]
    ref = subprocess.run([sys.executable, "-m", "constellation", "passes", winner], cwd=tmp, env=env, capture_output=True, text=True).stdout
    mixed |= (tmp / "out" / "passes.csv").read_text() != ref
results["fault:two writers never mix"] = not mixed

bad = {k: v for k, v in results.items() if not v}
print(json.dumps({"code": CODE, "tried": len(results), "clean": len(results) - len(bad), "not clean": sorted(bad)}, indent=1))
