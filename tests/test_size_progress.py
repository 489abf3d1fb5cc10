"""`size` progress counts every design once, in order (issue 17, item 10): designs that
pruning decides without an evaluation get their own line, so the count never jumps."""

from constellation.api import load_scenario
from constellation.sizing.runners import SerialRunner
from test_sizing import NETWORK, SMALL_SPACE, TARGETS, problem_of, run_size, write


def test_progress_counts_pruned_designs_without_a_gap(tmp_path):
    scn = load_scenario(write(tmp_path, "small.toml", NETWORK, SMALL_SPACE, TARGETS))
    seen = []
    result = run_size(scn, SerialRunner(problem_of(scn)), progress=lambda done, total, message: seen.append(
        (done, total, message)))
    total = len(result.designs)
    assert {t for _, t, _ in seen} == {total}
    done = [d for d, _, _ in seen]
    assert done == sorted(done) and done[-1] == total
    steps = [b - a for a, b in zip([0] + done, done)]
    pruned = [(step, message) for step, (_, _, message) in zip(steps, seen) if "without evaluation" in message]
    assert pruned, "the small space prunes some designs"
    for step, message in pruned:
        assert message.startswith(f"{step} design(s) decided without evaluation")
    assert all(step == 1 for step, (_, _, message) in zip(steps, seen) if "without evaluation" not in message)
    assert result.evaluated_now + sum(step for step, _ in pruned) == total
