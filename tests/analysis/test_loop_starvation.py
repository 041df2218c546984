"""The lower bound on how long the loop's ticks were late, from the probe's lag records."""

from pinkclinic.analysis.loop_starvation import in_loop_wait, lateness_share


def test_lateness_is_a_lower_bound_from_each_record_s_median():
    # 10 ticks at a 12 ms median: at least 5 of them were 12 ms late; 3 ticks at 2 ms: 2 were
    lags = [{"n": 10, "p50_ms": 12.0}, {"n": 3, "p50_ms": 2.0}]
    assert abs(lateness_share(lags, 1.0) - (5 * 0.012 + 2 * 0.002)) < 1e-12
    assert lateness_share(lags, 0.0) == 0.0


STD = "/usr/lib/python3.11"
RUN_ONCE = ["BaseEventLoop._run_once", f"{STD}/asyncio/base_events.py", 1898]
SELECT = ["EpollSelector.select", f"{STD}/selectors.py", 468]


def test_only_the_loop_s_own_wait_is_waiting():
    assert in_loop_wait([RUN_ONCE, SELECT])
    assert in_loop_wait([["Runner.run", f"{STD}/asyncio/runners.py", 118]])  # uvloop
    # future.result() under a callback blocks the loop: that is the loop's work
    assert not in_loop_wait([RUN_ONCE, ["Handle._run", f"{STD}/asyncio/events.py", 84],
                             ["get_profile", "/srv/app.py", 20],
                             ["Condition.wait", f"{STD}/threading.py", 327]])
    # so is the selector that subprocess.run waits in, called from a handler
    assert not in_loop_wait([["handler", "/srv/app.py", 9],
                             ["Popen._communicate", f"{STD}/subprocess.py", 2115],
                             ["PollSelector.select", f"{STD}/selectors.py", 415]])
    assert not in_loop_wait([SELECT]) and not in_loop_wait([])
