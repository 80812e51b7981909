#!/usr/bin/env python3
"""The admin dashboard in a real headless Chromium, driven over WebDriver (chromedriver on loopback).

Starts `enigma replay` of the bundled session at recorded pace with the admin endpoint on a free loopback
port, opens http://127.0.0.1:PORT/ and checks that
  * the page loads and its WebSocket feeds it: the frames it shows lie between two GET /api/status reads
    taken around it (the engine's own numbers), and they grow between two reads;
  * the heatmap, latency table and log panel show the run (BTCUSDT x imbalance, the decode stage, the
    replay's start line);
  * a kill clicked with a wrong token is refused (401 shown, kill switch still off), and a kill clicked with
    the right token typed into the token field reaches the engine: /api/status shows the kill switch
    latched, the page shows it, and the run's summary.json says kill_latched after SIGTERM.
Saves a screenshot of the dashboard during the replay (argument 3).

Usage: dashboard_test.py ENIGMA_BINARY SOURCE_DIR SCREENSHOT_PNG
Exit 0 pass, 1 fail, 77 skipped (no Chromium / chromedriver, or Chromium cannot start here).
"""
import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

SKIP = 77
TOKEN = "dashboard-test-token"
DEADLINE_S = 50  # the whole test, clean-up included, stays under ctest's 60 s limit


class OutOfTime(Exception):
    pass


def out_of_time(signum, frame):
    raise OutOfTime(f"the test ran past {DEADLINE_S} s")


def fail(msg):
    print("FAIL: " + msg, flush=True)
    raise SystemExit(1)


def skip(msg):
    print("SKIP: " + msg, flush=True)
    raise SystemExit(SKIP)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, body=None, headers=None, timeout=10):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def wait_for(what, check, timeout_s):
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except (OSError, ValueError, KeyError) as e:  # not up yet
            last = e
        time.sleep(0.1)
    fail(f"{what} within {timeout_s} s (last: {last!r})")


def admin_config(source_dir, port):
    """config/replay.toml with its [admin] section replaced: enabled on loopback `port`."""
    out, in_admin = [], False
    with open(os.path.join(source_dir, "config", "replay.toml")) as f:
        for line in f:
            stripped = line.strip()
            if stripped.startswith("[") or stripped.startswith("# ["):
                in_admin = stripped == "[admin]"
                if in_admin:
                    out.append(f'[admin]\nenabled = true\naddress = "127.0.0.1"\nport = {port}\ntoken_env = "ENIGMA_ADMIN_TOKEN"\n')
                    continue
            if in_admin and "=" in stripped and not stripped.startswith("#"):
                continue  # the sample's own admin keys
            out.append(line)
    return "".join(out)


class WebDriver:
    """The few W3C WebDriver commands this test needs, over chromedriver's loopback HTTP port."""

    ELEMENT = "element-6066-11e4-a52e-4f735466cecf"

    def __init__(self, port, chromium):
        self.base = f"http://127.0.0.1:{port}"
        caps = {"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1400,1000", "--no-first-run", "--no-default-browser-check"]}}}}
        status, body = http("POST", self.base + "/session", caps, timeout=30)
        if status != 200:
            skip(f"chromedriver could not start Chromium here (HTTP {status}): {body[:400]}")
        self.session = json.loads(body)["value"]["sessionId"]
        self.url = f"{self.base}/session/{self.session}"

    def cmd(self, method, path, body=None):
        status, text = http(method, self.url + path, body, timeout=30)
        if status != 200:
            fail(f"WebDriver {method} {path}: HTTP {status} {text[:300]}")
        return json.loads(text)["value"]

    def get(self, url):
        self.cmd("POST", "/url", {"url": url})

    def js(self, script):
        return self.cmd("POST", "/execute/sync", {"script": script, "args": []})

    def text_of(self, element_id):
        return self.js(f"return document.getElementById('{element_id}').textContent;")

    def element(self, css):
        found = self.cmd("POST", "/element", {"using": "css selector", "value": css})
        if self.ELEMENT not in found:
            fail(f"WebDriver find {css}: {found!r}")
        return found[self.ELEMENT]

    def click(self, css):
        self.cmd("POST", f"/element/{self.element(css)}/click", {})

    def type_into(self, css, text):
        eid = self.element(css)
        self.cmd("POST", f"/element/{eid}/clear", {})
        self.cmd("POST", f"/element/{eid}/value", {"text": text})

    def screenshot(self, path):
        with open(path, "wb") as f:
            f.write(base64.b64decode(self.cmd("GET", "/screenshot")))

    def quit(self):
        http("DELETE", self.url, timeout=10)


def find(*names):
    for n in names:
        p = shutil.which(n) or (n if os.path.isabs(n) and os.access(n, os.X_OK) else None)
        if p:
            return p
    return None


def main():
    if len(sys.argv) != 4:
        print(__doc__)
        return 2
    enigma, source_dir, screenshot = sys.argv[1:4]
    chromium = find("chromium", "chromium-browser", "google-chrome")
    driver_bin = find("chromedriver", "/usr/lib/chromium/chromedriver")
    if not chromium or not driver_bin:
        skip("Chromium or chromedriver is not installed (Debian: apt-get install chromium chromium-driver; "
             "scripts/setup.sh installs both)")

    tmp = tempfile.mkdtemp(prefix="enigma-dashboard-")
    admin_port, driver_port = free_port(), free_port()
    cfg = os.path.join(tmp, "replay.toml")
    with open(cfg, "w") as f:
        f.write(admin_config(source_dir, admin_port))
    runs = os.path.join(tmp, "runs")
    env = dict(os.environ, ENIGMA_ADMIN_TOKEN=TOKEN)
    engine_out = os.path.join(tmp, "enigma.out")
    # Past the deadline the test fails and still stops what it started (the replay would run for 6 minutes).
    signal.signal(signal.SIGALRM, out_of_time)
    signal.alarm(DEADLINE_S)
    with open(engine_out, "w") as out:
        engine = subprocess.Popen([enigma, "replay", "--config", cfg, "--speed", "recorded", "--runs-dir", runs, "--quiet"],
                                  cwd=source_dir, env=env, stdout=out, stderr=subprocess.STDOUT)
    driver_proc = None
    wd = None
    failed = False
    base = f"http://127.0.0.1:{admin_port}"

    def status():
        code, body = http("GET", base + "/api/status", timeout=5)
        if code != 200:
            raise ValueError(f"/api/status answered {code}")
        return json.loads(body)

    try:
        wait_for("the admin endpoint answering with frames", lambda: engine.poll() is None and status()["counters"]["frames"] > 0, 15)
        driver_proc = subprocess.Popen([driver_bin, f"--port={driver_port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for("chromedriver ready",
                 lambda: json.loads(http("GET", f"http://127.0.0.1:{driver_port}/status", timeout=2)[1])["value"]["ready"], 10)
        wd = WebDriver(driver_port, chromium)
        wd.get(base + "/")

        # The page loads and its WebSocket delivers the engine's numbers.
        wait_for("the page's WebSocket live and frames shown",
                 lambda: wd.text_of("conn") == "live" and wd.text_of("frames").isdigit(), 15)
        before = status()["counters"]["frames"]
        time.sleep(1.0)  # longer than the publish interval (200 ms) plus the /ws push interval (250 ms)
        shown = int(wd.text_of("frames"))
        after = status()
        if not before <= shown <= after["counters"]["frames"]:
            fail(f"page shows {shown} frames, the engine reported {before} before and {after['counters']['frames']} after")
        if wd.text_of("mode") != "replay" or wd.text_of("lifecycle") != after["lifecycle"]:
            fail(f"page mode/lifecycle {wd.text_of('mode')}/{wd.text_of('lifecycle')}, engine replay/{after['lifecycle']}")
        time.sleep(1.5)
        shown2 = int(wd.text_of("frames"))
        if shown2 <= shown:
            fail(f"frames on the page did not grow during a recorded-pace replay: {shown} then {shown2}")
        print(f"page frames {shown} (engine {before}..{after['counters']['frames']}), then {shown2}", flush=True)

        # The other panels show this run.
        heat = wd.text_of("heatmap")
        if "BTCUSDT" not in heat or "imbalance" not in heat:
            fail(f"heatmap does not show BTCUSDT x imbalance: {heat!r}")
        if "decode" not in wd.text_of("latency"):
            fail("latency table has no decode stage")
        wait_for("the replay's start line in the log panel", lambda: "replay start" in wd.text_of("logs"), 5)

        time.sleep(2.0)  # a few more points on the equity chart
        wd.screenshot(screenshot)
        print(f"screenshot: {screenshot}", flush=True)

        # A kill with a wrong token is refused and changes nothing.
        wd.type_into("#token", "not-the-token")
        wd.click("#btn-kill")
        wait_for("401 shown for a wrong token", lambda: "/api/kill: 401" in wd.text_of("action-result"), 5)
        if status()["kill_switch"]:
            fail("kill switch latched although the token was wrong")

        # The right token typed into the page: the kill reaches the engine.
        wd.type_into("#token", TOKEN)
        wd.click("#btn-kill")
        wait_for("202 shown for the kill", lambda: "/api/kill: 202" in wd.text_of("action-result"), 5)
        wait_for("/api/status kill_switch true", lambda: status()["kill_switch"], 5)
        wait_for("the page showing the kill switch latched", lambda: wd.text_of("kill-state") == "LATCHED", 5)
        print("kill from the page: latched", flush=True)
    except OutOfTime as e:
        print("FAIL: " + str(e), flush=True)
        failed = True
    finally:
        signal.alarm(0)
        if wd is not None:
            wd.quit()
        if driver_proc is not None:
            driver_proc.terminate()
            driver_proc.wait(10)
        if engine.poll() is None:
            engine.send_signal(signal.SIGTERM)
        try:
            engine.wait(timeout=8)
        except subprocess.TimeoutExpired:
            engine.kill()
            engine.wait()
        if engine.returncode not in (143, 0):
            with open(engine_out) as f:
                print(f.read()[-3000:], flush=True)

    if failed:
        return 1
    if engine.returncode != 143:
        fail(f"enigma replay ended with {engine.returncode}, expected 143 (stopped by SIGTERM)")
    runs_dirs = [d for d in os.listdir(runs) if d != "latest"]
    with open(os.path.join(runs, runs_dirs[0], "summary.json")) as f:
        summary = f.read()
    if '"kill_latched": true' not in summary:
        fail("summary.json does not say kill_latched: true")
    shutil.rmtree(tmp, ignore_errors=True)
    print("PASS", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
