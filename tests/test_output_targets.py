"""Where outputs go when the user points them somewhere odd (issue 16 review, hostile input):
``-o /dev/stdout`` writes through the descriptor the shell opened (``>>`` appends; never the
file behind it replaced), a closed standard output or error is one line or simply unused,
SIGTERM ends a command like Ctrl-C, a folder name ending in ``/`` is no file name, Parquet
never overflows int64 and an absurd source rate is refused. Real commands in subprocesses."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import pytest

from constellation.output.progress import ENV, forced, wanted

MICIUS = "scenarios/micius-2016-xinglong.toml"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _shell(command: str, **kwargs) -> subprocess.CompletedProcess:
    """``command`` through sh (for redirections such as ``>&-``), from the repository root."""
    env = {k: v for k, v in os.environ.items() if k != ENV} | kwargs.pop("env", {})
    return subprocess.run(["sh", "-c", command], cwd=ROOT, capture_output=True, env=env, timeout=300, **kwargs)


CLI = f"'{sys.executable}' -m constellation"


def test_dev_stdout_appends_where_the_shell_said_and_replaces_nothing(tmp_path):
    log = tmp_path / "log.csv"
    log.write_text("PREVIOUS\n")
    plain = _shell(f"{CLI} passes {MICIUS}").stdout
    done = _shell(f"{CLI} passes {MICIUS} -o /dev/stdout >> '{log}'")
    assert done.returncode == 0, done.stderr
    assert log.read_bytes() == b"PREVIOUS\n" + plain  # appended, as >> asks
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    done = _shell(f"{CLI} passes {MICIUS} -o /dev/stdout 1< '{victim}'")  # stdout open for reading only
    assert done.returncode == 2 and done.stderr.decode().count("\n") == 1, done.stderr
    assert victim.read_text() == "keep me\n"


@pytest.mark.parametrize("output", ["-", "/dev/stdout"])
def test_closed_stdout_is_one_line_not_a_traceback_nor_another_file(output):
    done = _shell(f"{CLI} passes {MICIUS} -o {output} >&-")
    text = done.stderr.decode()
    assert done.returncode == 2, text
    assert text.count("\n") == 1 and "closed" in text and "Traceback" not in text


def test_forced_bar_with_stderr_closed_never_reaches_stdout():
    plain = _shell(f"{CLI} key {MICIUS}").stdout
    forced_run = _shell(f"{CLI} key {MICIUS} 2>&-", env={ENV: "1"})
    assert forced_run.returncode == 0
    assert forced_run.stdout == plain


def test_progress_setting_words(monkeypatch):
    class Terminal:
        def isatty(self):
            return True

    for value, expected in [("1", True), ("yes", True), (" On ", True), ("TRUE", True), ("0", False),
                            ("off", False), ("No", False), ("false", False), ("2", None), ("", None), ("✓", None)]:
        monkeypatch.setenv(ENV, value)
        assert forced() is expected, value
    monkeypatch.delenv(ENV)
    monkeypatch.setenv("TERM", "dumb")
    assert wanted(Terminal()) is False  # a terminal that cannot draw the bar
    monkeypatch.setenv("TERM", "xterm")
    assert wanted(Terminal()) is True


def test_a_name_ending_in_a_slash_is_a_folder_not_a_file(tmp_path):
    done = _shell(f"{CLI} passes {MICIUS} -o '{tmp_path}/newdir/'")
    assert done.returncode == 2 and done.stderr.decode().count("\n") == 1
    assert not (tmp_path / "newdir").exists()


def test_sigterm_ends_like_ctrl_c_and_keeps_the_earlier_file(tmp_path, walker_scenario):
    scenario = tmp_path / "w.toml"
    walker_scenario(600, 30, 1.0, path=scenario)  # ~10 s of key: still running after 1.5 s
    out = tmp_path / "keep.csv"
    out.write_text("earlier result\n")
    proc = subprocess.Popen([sys.executable, "-m", "constellation", "key", str(scenario), "-o", str(out)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(1.5)
    assert proc.poll() is None, "the run ended before the signal: make the scenario bigger"
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 143, stderr
    assert stderr.decode().strip().splitlines()[-1] == "terminated" and b"Traceback" not in stderr
    assert out.read_text() == "earlier result\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.csv", "w.toml"]  # no stage left


@pytest.mark.parametrize("hook, name, code, word", [("after_in_parent", "SIGTERM", 143, "terminated"),
                                                      ("before", "SIGTERM", 143, "terminated"),
                                                      ("before", "SIGINT", 130, "aborted")])
def test_a_signal_while_the_workers_are_forked_still_ends_the_run(tmp_path, walker_scenario, hook, name, code, word):
    # CI saw a SIGTERM land inside Python's fork hook (logging's lock release): the handler's
    # exception was dropped ("Exception ignored in ..."), the run went on and wrote its table
    # with exit 0. Here the signal is sent from inside every fork's hook in the parent, so it
    # lands there each time, not by chance; with the progress bar on, whose threads may be the
    # ones the signal reaches (review: a handler raising half-way through starting a worker
    # left that worker running, unknown to the pool, after the command ended).
    scenario = tmp_path / "w.toml"
    walker_scenario(600, 30, 1.0, path=scenario)  # more than one key batch: the workers fork
    out = tmp_path / "keep.csv"
    out.write_text("earlier result\n")
    program = ("import os, signal, sys\n"
               "from constellation.cli import main\n"
               f"os.register_at_fork({hook}=lambda: os.kill(os.getpid(), signal.{name}))\n"
               f"sys.exit(main(['key', {str(scenario)!r}, '-o', {str(out)!r}, '--workers', '2']))\n")
    proc = subprocess.Popen([sys.executable, "-c", program], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True, env={**os.environ, ENV: "1"})
    try:
        _, stderr = proc.communicate(timeout=120)  # also waits for any worker holding the pipes
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        raise AssertionError("the command, or a worker holding its output, did not end") from None
    assert proc.returncode == code, stderr
    shown = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", stderr.decode())  # the bar's cursor moves removed
    assert shown.strip().splitlines()[-1] == word
    assert b"Traceback" not in stderr and b"Exception ignored" not in stderr
    assert out.read_text() == "earlier result\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.csv", "w.toml"]
    for _ in range(50):  # no worker left in the command's process group (they end within moments)
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        os.killpg(proc.pid, signal.SIGKILL)
        raise AssertionError("a worker outlived the command")


def test_a_sigterm_a_library_swallowed_still_ends_as_terminated(tmp_path):
    # Hostile review: a SIGTERM landing in skyfield's `try: import ... except:` import fallback
    # turned into ModuleNotFoundError ('urlparse') and a traceback, exit 1. The signal is sent
    # from an import hook at that import, so it lands there every time.
    program = (
        "import os, signal, sys\n"
        "class Hook:\n"
        "    fired = False\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'urllib.request' and not Hook.fired and 'skyfield.iokit' in sys.modules:\n"
        "            Hook.fired = True\n"
        "            os.kill(os.getpid(), signal.SIGTERM)\n"
        "        return None\n"
        "sys.meta_path.insert(0, Hook())\n"
        "for name in [m for m in sys.modules if m.startswith('urllib')]:\n"
        "    del sys.modules[name]\n"
        "from constellation.cli import main\n"
        f"sys.exit(main(['passes', {MICIUS!r}]))\n")
    done = subprocess.run([sys.executable, "-c", program], cwd=ROOT, capture_output=True, timeout=120)
    assert done.returncode == 143, done.stderr
    assert done.stderr.decode().strip().splitlines()[-1] == "terminated" and b"Traceback" not in done.stderr


def test_a_sigterm_whose_exception_python_dropped_still_stops_the_commit(tmp_path, monkeypatch):
    from constellation import interrupts
    from constellation.output.files import write_files

    dropped = []
    monkeypatch.setattr(sys, "unraisablehook", dropped.append)

    class Finalised:
        def __del__(self):  # Python drops an exception raised here, as in a fork hook
            interrupts.on_sigterm()

    try:
        Finalised()
        assert [d.exc_type for d in dropped] == [interrupts.Terminated]
        target = tmp_path / "keep.csv"
        target.write_text("earlier result\n")
        with pytest.raises(interrupts.Terminated):
            write_files([(target, "new\n")])
        assert target.read_text() == "earlier result\n"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.csv"]  # the stage removed
    finally:
        interrupts.reset()
    write_files([(target, "new\n")])  # forgotten once the command is over
    assert target.read_text() == "new\n"


def test_parquet_keeps_whole_numbers_beyond_int64_as_doubles():
    import io

    import pyarrow.parquet as pq  # a test dependency (pyproject's test extra)

    from constellation.output.parquet import parquet_bytes

    data = parquet_bytes({"n": [1, 2 ** 70, None], "m": [1, 2, 3]}, ["n", "m"])
    table = pq.read_table(io.BytesIO(data))
    assert str(table.schema.field("n").type) == "double" and str(table.schema.field("m").type) == "int64"
    assert table.column("n").to_pylist() == [1.0, float(2 ** 70), None]


def test_an_absurd_source_rate_is_refused(tmp_path):
    scenario = tmp_path / "fast.toml"
    text = open(os.path.join(ROOT, MICIUS)).read()
    assert "[qkd]" in text
    scenario.write_text(text.replace("[qkd]", "[qkd]\nsource_rate_hz = 1e25", 1))
    done = _shell(f"{CLI} key '{scenario}'")
    message = done.stderr.decode()
    assert done.returncode == 2 and message.count("\n") == 1 and "source_rate_hz" in message, message


def test_a_link_to_dev_stdout_is_the_descriptor_not_the_file_behind_it(tmp_path):
    link = tmp_path / "lnk"
    link.symlink_to("/dev/stdout")
    folder_link = tmp_path / "fds"
    folder_link.symlink_to("/dev/fd")
    plain = _shell(f"{CLI} passes {MICIUS}").stdout
    for target in (link, folder_link / "1"):
        log = tmp_path / "app.txt"
        log.write_text("prior\n")
        inode = log.stat().st_ino
        done = _shell(f"{CLI} passes {MICIUS} -o '{target}' >> '{log}'")
        assert done.returncode == 0, done.stderr
        assert log.read_bytes() == b"prior\n" + plain and log.stat().st_ino == inode  # appended, not replaced
        closed = _shell(f"{CLI} passes {MICIUS} -o '{target}' >&-")
        assert closed.returncode == 2 and b"closed" in closed.stderr


def test_a_descriptor_open_for_reading_is_refused_before_any_work(tmp_path):
    source = tmp_path / "in.txt"
    source.write_text("input\n")
    done = _shell(f"{CLI} passes {MICIUS} -o /dev/fd/3 3< '{source}'")
    assert done.returncode == 2 and b"reading only" in done.stderr
    assert source.read_text() == "input\n"
