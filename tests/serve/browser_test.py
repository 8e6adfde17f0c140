#!/usr/bin/env python3
"""The browser test of `mtlgrad serve` (docs/serve.md): a real headless chromium runs the page's
self-test (?selftest=1), which places a start by a click, runs pcgrad + adam, checks the drawn end
point against the server's, opens a sweep and checks its curves are drawn, then posts its checks to
POST /api/selftest. This script then checks the report, checks that the path's end is what
`mtlgrad run` computes for the same config (final_params.json), and that SIGTERM stops the server
cleanly. Only the standard library; no npm.

    browser_test.py --mtlgrad build/mtlgrad --source . [--screenshots docs/img]

A missing chromium is a failure (exit 1), never a skip: the test exists only when the build was
configured with MTLGRAD_BROWSER_TESTS=ON, which says chromium is meant to be there.
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time


def fail(message):
    print("browser test: FAILED: " + message, file=sys.stderr)
    sys.exit(1)


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    fail("chromium is not installed (apt-get install chromium; scripts/deps browser), but MTLGRAD_BROWSER_TESTS is ON")


def chromium_args(chromium, profile):
    # --no-sandbox: CI runs as root, where chromium's sandbox refuses to start. No proxy: the page
    # talks to 127.0.0.1 only.
    return [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-proxy-server",
            "--no-first-run", "--disable-extensions", "--disable-dev-shm-usage", "--hide-scrollbars",
            "--user-data-dir=" + profile]


def start_server(mtlgrad, runs, report, log_path):
    log = open(log_path, "w+")
    server = subprocess.Popen([mtlgrad, "serve", "--runs", runs, "--port", "0", "--selftest-report", report],
                              stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.time() + 10
    while time.time() < deadline:
        log.seek(0)
        m = re.search(r"http://127\.0\.0\.1:(\d+)/", log.read())
        if m:
            return server, int(m.group(1))
        if server.poll() is not None:
            break
        time.sleep(0.05)
    server.kill()
    log.seek(0)
    fail("mtlgrad serve did not print its address: " + log.read())


def stop(process, sig=signal.SIGTERM, timeout=5):
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            return None
    return process.returncode


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mtlgrad", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--screenshots", help="also write playground.png and runs.png into this folder")
    args = ap.parse_args()
    chromium = find_chromium()
    work = tempfile.mkdtemp(prefix="mtlgrad_browser_")
    runs, report = os.path.join(work, "runs"), os.path.join(work, "report.json")
    os.makedirs(runs)
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    # A sweep to open: the toy with sum, pcgrad and mgda, 1500 steps each (about a second).
    sweep = subprocess.run([args.mtlgrad, "sweep", os.path.join(args.source, "models/configs/toy2d.json"),
                            "--set", "steps=1500", "--set", "log_every=10", "--set", "optimizer.lr=0.01",
                            "--grid", "aggregator.name=sum,pcgrad,mgda",
                            "--out", os.path.join(runs, "sweep-toy"), "--jobs", "2", "--no-plots"],
                           env=env, capture_output=True, text=True)
    if sweep.returncode != 0:
        fail("the sweep to browse failed: " + sweep.stderr[-2000:])

    server, port = start_server(args.mtlgrad, runs, report, os.path.join(work, "serve.log"))
    url = "http://127.0.0.1:%d/" % port
    browser = subprocess.Popen(chromium_args(chromium, os.path.join(work, "profile")) + [url + "?selftest=1"],
                               stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "chromium.log"), "w"),
                               start_new_session=True)
    deadline = time.time() + 45
    while time.time() < deadline and not os.path.exists(report) and browser.poll() is None:
        time.sleep(0.1)
    if browser.poll() is None:
        os.killpg(browser.pid, signal.SIGKILL)
        browser.wait()
    if not os.path.exists(report):
        stop(server)
        fail("the page posted no self-test report within 45 s; chromium's log: " +
             open(os.path.join(work, "chromium.log")).read()[-2000:])
    result = json.load(open(report))
    for c in result["checks"]:
        print("%s  %s%s" % ("ok  " if c["ok"] else "FAIL", c["name"], "" if c["ok"] else "  (" + c["detail"] + ")"))
    if not result["checks"] or not result["ok"]:
        stop(server)
        fail("%d of %d checks in the page failed" % (sum(not c["ok"] for c in result["checks"]), len(result["checks"])))

    # The same numbers as `mtlgrad run`: the request the page made, run from a config file.
    config = dict(result["request"]["config"], steps=result["request"]["steps"], log_every=result["request"]["steps"])
    config_path, out = os.path.join(work, "run.json"), os.path.join(work, "cli-run")
    json.dump(config, open(config_path, "w"))
    run = subprocess.run([args.mtlgrad, "run", config_path, "--out", out, "--quiet"], env=env,
                         capture_output=True, text=True)
    if run.returncode != 0:
        fail("mtlgrad run of the page's config failed: " + run.stderr)
    x = json.load(open(os.path.join(out, "final_params.json")))["x"]["data"]
    if x != result["end"]:
        fail("the page's end point %s is not mtlgrad run's %s" % (result["end"], x))
    print("ok    the page's end point %s is mtlgrad run's final x" % (result["end"],))

    if args.screenshots:
        os.makedirs(args.screenshots, exist_ok=True)
        for name, query in (("playground.png", "?demo=1"), ("runs.png", "?view=runs")):
            shot = subprocess.run(chromium_args(chromium, os.path.join(work, "profile-shot")) +
                                  ["--window-size=1280,1000", "--virtual-time-budget=15000",
                                   "--screenshot=" + os.path.abspath(os.path.join(args.screenshots, name)), url + query],
                                  capture_output=True, text=True, timeout=60)
            if shot.returncode != 0:
                fail("screenshot " + name + ": " + shot.stderr[-1000:])
            print("wrote " + os.path.join(args.screenshots, name))

    code = stop(server)
    log = open(os.path.join(work, "serve.log")).read()
    if code != 0 or "stopped" not in log:
        fail("SIGTERM did not stop mtlgrad serve cleanly (exit %s): %s" % (code, log))
    print("ok    SIGTERM stopped the server (exit 0)")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
