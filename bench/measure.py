#!/usr/bin/env python3
"""Run one command several times; report wall time and peak RSS of each run. Standard library only.

Reads a JSON job on stdin and writes a JSON result on stdout (bench/measure.mjs is the Node-side wrapper):

  job:    {"argv": [...], "cwd": ".", "env": {...}, "runs": 5, "warmup": 0, "clean": ["path", ...],
           "ok_codes": [0, 1], "timeout_s": 300, "stdout_path": "file for the last run's stdout"}
  result: {"runs": [{"wall_ms": 12.3, "max_rss_kb": 45678, "exit_code": 0, "signal": null}, ...],
           "failed": null | "reason", "stderr": "stderr of the last run (first 4 KiB)"}

Wall time: time.perf_counter() around fork → exec → wait4 of the child.
Peak RSS: ru_maxrss from os.wait4() on the child, i.e. the kernel's high-water mark of the child's resident
set. On Linux it also covers every descendant the child waited for, as the largest single process (not a
sum). It is kilobytes on Linux and bytes on macOS; this script always reports kilobytes.
Paths in "clean" are deleted before every timed run (not timed): that is how a cold run is made.
Warm-up runs are executed and discarded. A run whose exit code is not in ok_codes, that is killed by a
signal, or that exceeds timeout_s stops the job; "failed" then says why.
"""

import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time

RSS_UNIT_KB = 1 / 1024 if sys.platform == "darwin" else 1


def run_once(job, out_path, err_path):
    argv = job["argv"]
    env = job.get("env") or dict(os.environ)
    cwd = job.get("cwd") or "."
    out_fd = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    err_fd = os.open(err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    null_fd = os.open(os.devnull, os.O_RDONLY)
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # child: own process group (so a timeout can kill the whole tree), redirect, exec
        try:
            os.setpgid(0, 0)
            os.chdir(cwd)
            os.dup2(null_fd, 0)
            os.dup2(out_fd, 1)
            os.dup2(err_fd, 2)
            os.execvpe(argv[0], argv, env)
        except BaseException as exc:  # noqa: BLE001 - report anything and leave without cleanup
            os.write(2, f"measure: cannot run {argv[0]}: {exc}\n".encode())
        os._exit(127)
    for fd in (out_fd, err_fd, null_fd):
        os.close(fd)
    timed_out = threading.Event()

    def kill():
        timed_out.set()
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    timer = threading.Timer(job.get("timeout_s", 300), kill)
    timer.start()
    try:
        _, status, usage = os.wait4(pid, 0)
    finally:
        timer.cancel()
    wall_ms = (time.perf_counter() - t0) * 1000
    run = {
        "wall_ms": round(wall_ms, 2),
        "max_rss_kb": int(usage.ru_maxrss * RSS_UNIT_KB),
        "exit_code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
        "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
    }
    if timed_out.is_set():
        run["timed_out"] = True
    return run


def failure(job, run):
    if run.get("timed_out"):
        return f"timed out after {job.get('timeout_s', 300)} s"
    if run["signal"] is not None:
        return f"killed by signal {run['signal']}"
    if run["exit_code"] not in job.get("ok_codes", [0]):
        return f"exit code {run['exit_code']}"
    return None


def clean(paths):
    for path in paths:
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        elif os.path.lexists(path):
            os.remove(path)


def main():
    job = json.load(sys.stdin)
    if not job.get("argv"):
        raise SystemExit("measure: job needs a non-empty argv")
    with tempfile.TemporaryDirectory(prefix="keel-bench-") as tmp:
        out_path = job.get("stdout_path") or os.path.join(tmp, "stdout")
        err_path = os.path.join(tmp, "stderr")
        result = {"runs": [], "failed": None, "stderr": ""}
        plan = [False] * job.get("warmup", 0) + [True] * job.get("runs", 1)
        for timed in plan:
            clean(job.get("clean", []))
            run = run_once(job, out_path, err_path)
            reason = failure(job, run)
            if timed or reason:
                run["warmup"] = not timed
                result["runs"].append(run)
            if reason:
                result["failed"] = reason
                break
        with open(err_path, "rb") as f:
            result["stderr"] = f.read(4096).decode("utf-8", "replace")
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
