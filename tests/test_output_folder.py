"""Reusing an output folder (`run -o`, `size -o`): the same scenario file is recognised however
its path is spelt, another scenario's results are still refused, and a rerun leaves only its
own files (the earlier run's files it no longer writes are removed, a user's files stay),
unless it fails: then the earlier results are all there, byte for byte.

The runs use the shipped Micius scenario (2 days, 5 stations: under a second without figures)
copied into the test's folder.
"""

import json
import os
import re
import subprocess
import sys

from conftest import MICIUS_SCENARIO

from constellation.output.files import LOCK_NAME


def _micius(folder, name="micius.toml", key=True, stations=None):
    """The shipped Micius scenario written to ``folder/name``; without ``[link]``/``[qkd]``
    (no key) unless ``key``; only the ``stations`` named, if given."""
    text = MICIUS_SCENARIO.read_text(encoding="utf-8")
    if not key:
        text = re.sub(r"(?ms)^\[link\].*", "", text)
        assert "[qkd]" not in text and "[link]" not in text
    if stations is not None:
        blocks = re.findall(r'(?ms)^\[\[stations\]\]\nname = "([^"]+)"\n[^\[]*', text)
        for found in re.finditer(r'(?ms)^\[\[stations\]\]\nname = "([^"]+)"\n[^\[]*', text):
            if found.group(1) not in stations:
                text = text.replace(found.group(0), "")
        assert len(blocks) == 5 and text.count("[[stations]]") == len(stations)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _files(folder):
    """Name -> bytes of every file in ``folder`` but the lock."""
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.name != LOCK_NAME}


def test_the_same_scenario_by_another_path_is_accepted(run_cli, tmp_path, monkeypatch):
    _micius(tmp_path / "scenarios")
    out = tmp_path / "out"
    monkeypatch.chdir(tmp_path)
    run_cli("run", "scenarios/micius.toml", "--no-plots", "-o", "out")
    summary = json.loads((out / "summary.json").read_text())
    # The path as given stays readable; the file it names is kept beside it.
    assert summary["scenario_file"] == "scenarios/micius.toml"
    assert summary["scenario_file_resolved"] == os.path.realpath(tmp_path / "scenarios" / "micius.toml")

    run_cli("run", tmp_path / "scenarios" / "micius.toml", "--no-plots", "-o", "out")  # absolute
    run_cli("run", "./scenarios/../scenarios/micius.toml", "--no-plots", "-o", out)
    (tmp_path / "link.toml").symlink_to(tmp_path / "scenarios" / "micius.toml")
    run_cli("run", "link.toml", "--no-plots", "-o", "out")
    monkeypatch.chdir(tmp_path / "scenarios")  # the same file from inside its folder
    run_cli("run", "micius.toml", "--no-plots", "-o", "../out")
    assert json.loads((out / "summary.json").read_text())["scenario_file"] == "micius.toml"

    # A hard link is the same file under another name (os.path.samefile).
    from constellation.results import folder_record, holds_results_of

    os.link(tmp_path / "scenarios" / "micius.toml", tmp_path / "hard.toml")
    assert holds_results_of(folder_record(out), tmp_path / "hard.toml")


def test_another_scenario_is_still_refused(run_cli, tmp_path, monkeypatch):
    _micius(tmp_path / "a")
    _micius(tmp_path / "b")
    out = tmp_path / "out"
    monkeypatch.chdir(tmp_path)
    run_cli("run", "a/micius.toml", "--no-plots", "-o", "out")
    before = _files(out)
    # The same bytes in another file, and the same spelling from another folder, are other
    # scenarios: the folder holds results of a/micius.toml (named as reached from here).
    err = run_cli("run", "b/micius.toml", "--no-plots", "-o", "out", code=2).err
    assert "found 'results of a/micius.toml'" in err and len(err.strip().splitlines()) == 1
    monkeypatch.chdir(tmp_path / "a")
    run_cli("run", "micius.toml", "--no-plots", "-o", "../out")  # the same file: accepted
    monkeypatch.chdir(tmp_path / "b")
    err = run_cli("run", "micius.toml", "--no-plots", "-o", "../out", code=2).err
    assert "found 'results of ../a/micius.toml'" in err
    assert _files(out).keys() == before.keys()


def test_a_rerun_without_a_key_removes_the_earlier_key_table(run_cli, tmp_path):
    scenario = _micius(tmp_path)
    out = tmp_path / "out"
    run_cli("run", scenario, "--no-plots", "-o", out)
    assert {"passes.csv", "key.csv", "summary.json"} <= set(_files(out))
    (out / "notes.txt").write_text("my notes\n")
    (out / "key-old.csv").write_text("a user's file, named like ours\n")

    _micius(tmp_path, key=False)  # [link] and [qkd] removed: no key this time
    run_cli("run", scenario, "--no-plots", "-o", out)
    summary = json.loads((out / "summary.json").read_text())
    assert "key" not in summary
    assert summary["outputs"] == ["passes.csv", "summary.json"]
    assert set(_files(out)) == {"passes.csv", "summary.json", "notes.txt", "key-old.csv"}
    assert (out / "notes.txt").read_text() == "my notes\n"


def test_a_rerun_without_figures_or_a_station_removes_the_earlier_figures(run_cli, tmp_path):
    scenario = _micius(tmp_path, stations=["Xinglong", "Graz"])
    out = tmp_path / "out"
    run_cli("run", scenario, "-o", out)
    figures = {name for name in _files(out) if name.endswith(".png")}
    assert {"sky-xinglong.png", "sky-graz.png", "key-xinglong.png", "key-graz.png"} <= figures
    (out / "mine.png").write_bytes(b"\x89PNG a figure of the user's")
    assert set(json.loads((out / "summary.json").read_text())["outputs"]) == set(_files(out)) - {"mine.png"}

    _micius(tmp_path, stations=["Xinglong"])  # one station: sky.png and key.png are its figures
    run_cli("run", scenario, "-o", out)
    figures = {name for name in _files(out) if name.endswith(".png")}
    assert not {"sky-xinglong.png", "sky-graz.png", "key-xinglong.png", "key-graz.png"} & figures
    assert {"sky.png", "key.png", "mine.png"} <= figures

    run_cli("run", scenario, "--no-plots", "-o", out)
    assert set(_files(out)) == {"passes.csv", "key.csv", "summary.json", "mine.png"}


def test_a_failed_rerun_leaves_the_earlier_results(run_cli, tmp_path):
    # The rerun (no key: it would remove key.csv) fails on a full disk: files may grow to
    # 100 bytes (RLIMIT_FSIZE, writes past it fail with EFBIG; Python ignores SIGXFSZ) and
    # passes.csv is larger. Every file of the first run is there, byte for byte.
    scenario = _micius(tmp_path)
    out = tmp_path / "out"
    run_cli("run", scenario, "--no-plots", "-o", out)
    (out / "notes.txt").write_text("my notes\n")
    before = _files(out)
    _micius(tmp_path, key=False)

    def full_disk():
        import resource

        resource.setrlimit(resource.RLIMIT_FSIZE, (100, resource.RLIM_INFINITY))

    done = subprocess.run([sys.executable, "-m", "constellation", "run", str(scenario), "--no-plots", "-o", str(out)],
                          capture_output=True, text=True, preexec_fn=full_disk, timeout=300)
    assert done.returncode == 2 and "File too large" in done.stderr, done.stderr
    assert _files(out) == before
    run_cli("run", scenario, "--no-plots", "-o", out)  # with room: the rerun goes through
    assert "key.csv" not in _files(out)


def test_a_size_rerun_without_figures_removes_the_earlier_pareto_figure(run_cli, tmp_path):
    from test_sizing import NETWORK, SMALL_SPACE, TARGETS

    scenario = tmp_path / "small.toml"
    scenario.write_text(NETWORK + SMALL_SPACE + TARGETS)
    out = tmp_path / "out"
    run_cli("size", scenario, "--workers", "1", "-o", out)
    assert (out / "pareto.png").is_file()
    run_cli("size", f"{tmp_path}/./small.toml", "--workers", "1", "--no-plots", "-o", out)  # another spelling
    summary = json.loads((out / "size.json").read_text())
    assert "pareto.png" not in summary["outputs"] and not (out / "pareto.png").exists()
    assert (out / "sweep.jsonl").is_file()  # the journal is the sweep's, not a written output


def test_a_moved_scenario_is_not_taken_for_another_file_of_its_old_name(run_cli, tmp_path, monkeypatch):
    # Hostile review: the first scenario file moved away, another file with its old relative
    # name (from another folder) was taken for it, and the first run's key.csv deleted.
    first = _micius(tmp_path / "m1", "s.toml")
    other = _micius(tmp_path / "m2", "s.toml", key=False)
    other.write_text(other.read_text(encoding="utf-8").replace('name = "', 'name = "OTHER ', 1), encoding="utf-8")
    out = tmp_path / "out"
    monkeypatch.chdir(tmp_path / "m1")
    run_cli("run", "s.toml", "--no-plots", "-o", out)
    before = _files(out)
    first.rename(tmp_path / "m1" / "moved.toml")
    monkeypatch.chdir(tmp_path / "m2")
    run = run_cli("run", "s.toml", "--no-plots", "-o", out, code=2)
    assert "results of" in run.err and _files(out) == before


def test_the_listed_scenario_file_and_odd_names_are_never_removed(run_cli, tmp_path, monkeypatch):
    scenario = _micius(tmp_path)
    monkeypatch.chdir(tmp_path)
    run_cli("run", "micius.toml", "--no-plots", "-o", ".", "--force")
    summary = json.loads((tmp_path / "summary.json").read_text())
    summary["outputs"] += ["micius.toml", "a\u0000b", "z" * 300]  # a summary edited by hand
    (tmp_path / "summary.json").write_text(json.dumps(summary))
    run_cli("run", "micius.toml", "--no-plots", "-o", ".", "--force")
    assert scenario.exists() and (tmp_path / "key.csv").exists()
