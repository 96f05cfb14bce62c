"""Check the built documentation site as a reader would, in headless Chromium.

Serves ``site/`` (build it first: ``mkdocs build --strict``) on a local port and
opens it in Debian's ``chromium`` (``apt-get install chromium``):

- screenshots of the home page, the ``LSTMSAERegressor`` API page, one gallery page
  and the search results for ``LSTMSAERegressor`` go to ``docs/screenshots/``
  (reduced to a 256-colour palette, to keep them small);
- each of those pages must render its own content in the browser (its text, read
  from the DOM after the scripts ran, holds what the page is about);
- the search index (``site/search/search_index.json``) must hold the API page of
  ``LSTMSAERegressor``, and the search itself, run by the site's own JavaScript with
  ``?q=LSTMSAERegressor``, must list it first.

Prints one line per check and exits 1 if any fails. Usage::

    python tools/docs_check.py [--site site] [--out docs/screenshots] [--chromium chromium]
"""

import argparse
import base64
import functools
import http.server
import io
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
QUERY = "LSTMSAERegressor"
API_PAGE = "api/regressor/"

#: screenshot name -> (path in the site, text its rendered page must show)
PAGES = {
    "home": ("", "In fifteen lines"),
    "api_regressor": (API_PAGE, "Deep LSTM forecaster initialised by greedy autoencoder pretraining"),
    "gallery_anomaly_detection": ("generated/gallery/anomaly_detection/", "events found"),
    "search": (f"?q={QUERY}", None),  # checked below: the results name the API page
}


def serve(site):
    """Serve ``site`` on a free local port from a daemon thread; returns the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class Chromium:
    """Headless Chromium driven over the DevTools protocol on a pipe (no other package).

    ``--remote-debugging-pipe`` reads commands on file descriptor 3 and writes replies
    on 4, each a JSON message ended by a NUL byte. Pages are waited for in real time, so
    that what runs in web workers (the site's search) has finished.
    """

    def __init__(self, binary, size=(1280, 900)):
        commands_read, self._commands = os.pipe()
        self._replies, replies_write = os.pipe()

        def on_fds_3_and_4():  # runs in the child, before exec
            os.dup2(commands_read, 3)
            os.dup2(replies_write, 4)

        self._profile = tempfile.TemporaryDirectory()
        self._process = subprocess.Popen(
            [binary, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             "--no-first-run", "--remote-debugging-pipe", f"--user-data-dir={self._profile.name}",
             f"--window-size={size[0]},{size[1]}", "about:blank"],
            preexec_fn=on_fds_3_and_4, pass_fds=(3, 4),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(commands_read)
        os.close(replies_write)
        self._size, self._buffer, self._count = size, b"", 0

    def send(self, method, session=None, **params):
        """Send one command; returns its result (events in between are dropped)."""
        self._count += 1
        message = {"id": self._count, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        while True:
            while b"\0" not in self._buffer:
                chunk = os.read(self._replies, 1 << 16)
                if not chunk:
                    raise RuntimeError(f"chromium stopped while answering {method}")
                self._buffer += chunk
            raw, self._buffer = self._buffer.split(b"\0", 1)
            reply = json.loads(raw)
            if reply.get("id") == self._count:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]

    def open(self, url):
        """Open ``url`` in a new tab; returns its session."""
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        session = self.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.send("Emulation.setDeviceMetricsOverride", session, width=self._size[0],
                  height=self._size[1], deviceScaleFactor=1, mobile=False)
        self.send("Page.navigate", session, url=url)
        return session

    def evaluate(self, session, expression):
        result = self.send("Runtime.evaluate", session, expression=expression, returnByValue=True)
        return result["result"].get("value")

    def wait_for(self, session, expression, timeout=60):
        """Wait until ``expression`` is truthy in the page; returns its last value."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(session, expression)
            if value or time.monotonic() > deadline:
                return value
            time.sleep(0.25)

    def screenshot(self, session, path):
        """Save the visible page to ``path``, as a palette PNG; returns its size in bytes."""
        data = base64.b64decode(self.send("Page.captureScreenshot", session, format="png")["data"])
        from PIL import Image

        with Image.open(io.BytesIO(data)) as image:
            image.convert("RGB").quantize(colors=256).save(path, optimize=True)
        return path.stat().st_size

    def close(self):
        try:
            self.send("Browser.close")
            self._process.wait(timeout=30)
        except (RuntimeError, OSError, subprocess.TimeoutExpired):
            self._process.kill()
        os.close(self._commands)
        os.close(self._replies)
        self._profile.cleanup()


def search_index_hits(site):
    """Locations in the search index whose title or text names ``QUERY``."""
    index = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    return sorted({doc["location"] for doc in index["docs"]
                   if QUERY in doc.get("title", "") or QUERY in doc.get("text", "")})


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--site", default=str(ROOT / "site"), help="the built site")
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"), help="where screenshots go")
    parser.add_argument("--chromium", default="chromium", help="the Chromium binary")
    args = parser.parse_args(argv)

    site, out = pathlib.Path(args.site), pathlib.Path(args.out)
    binary = shutil.which(args.chromium)
    if not (site / "index.html").is_file():
        sys.exit(f"no built site at {site}: run `mkdocs build --strict` first")
    if binary is None:
        sys.exit(f"{args.chromium!r} not found: `apt-get install chromium` (Debian)")
    out.mkdir(parents=True, exist_ok=True)
    base = serve(site)
    failures = []

    def check(ok, message):
        print(("ok    " if ok else "FAIL  ") + message)
        if not ok:
            failures.append(message)

    browser = Chromium(binary)
    try:
        loaded = "document.readyState === 'complete' && document.querySelector('article') !== null"
        for name, (path, text) in PAGES.items():
            url = base + path
            session = browser.open(url)
            browser.wait_for(session, loaded)
            if text is not None:
                shown = browser.wait_for(
                    session, f"document.querySelector('article').innerText.includes({json.dumps(text)})")
                size = browser.screenshot(session, out / f"{name}.png")
                check(bool(shown), f"{url} renders {text!r} (screenshot {name}.png, {size:,} bytes)")
            else:  # the site's own search, run by its scripts from ?q=
                results = "Array.from(document.querySelectorAll('.md-search-result__item a'))" \
                          ".map(a => new URL(a.href).pathname)"
                found = browser.wait_for(session, f"{results}.length > 0 && {results}")
                browser.wait_for(session, "false", timeout=1)  # let the list finish drawing
                size = browser.screenshot(session, out / f"{name}.png")
                check(bool(found) and found[0] == f"/{API_PAGE}",
                      f"{url}: the site's search lists {found[:3] if found else 'nothing'} first "
                      f"(screenshot {name}.png, {size:,} bytes)")
    finally:
        browser.close()
    hits = search_index_hits(site)
    check(any(location.startswith(API_PAGE) for location in hits),
          f"search_index.json: {QUERY!r} is in {len(hits)} entries, the API page among them")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
