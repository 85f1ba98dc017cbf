"""Locust user of bench/bench_load.py: a logged-in buyer going through the portal.

Run by bench_load.py with the load generator's own virtual environment (.local/load-venv); it
reads the prepared buyers from $BENCH_LOAD_USERS (session cookie, one open invoice, pay-all URL).
Every page must answer 200 with its marker, or the request counts as an error.
"""

import itertools
import json
import os
from pathlib import Path

from locust import HttpUser, between, task

USERS = json.loads(Path(os.environ["BENCH_LOAD_USERS"]).read_text())
NEXT = itertools.count()


class Buyer(HttpUser):
    wait_time = between(1, 3)  # a person reading the page before the next click

    def on_start(self):
        self.buyer = USERS[next(NEXT) % len(USERS)]
        self.client.cookies.set("session_id", self.buyer["session"])

    def _get(self, url, name, marker):
        with self.client.get(url, name=name, catch_response=True, allow_redirects=False) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
            elif marker not in response.text:
                response.failure(f"marker {marker!r} missing")

    @task(3)
    def invoices(self):
        self._get("/my/invoices", "/my/invoices", "/my/invoices/")

    @task(2)
    def invoice(self):
        self._get(f"/my/invoices/{self.buyer['invoice']}", "/my/invoices/<id>", self.buyer["invoice_name"])

    @task(1)
    def pay_all(self):
        self._get(self.buyer["pay_all_url"], "pay-all page", self.buyer["pay_all_marker"])
