#!/usr/bin/env python3
"""The demo's mail sink and buyer AP endpoint, started by `make run` on 127.0.0.1.

- SMTP (aiosmtpd, https://aiosmtpd.aio-libs.org/): every message Odoo sends is stored as
  ``<folder>/<n>-<subject>.eml`` and never leaves the machine.
- HTTP (standard library): ``/`` lists the stored mails, newest first; ``/mail/<n>`` shows one
  (its HTML body with working links, e.g. "Pay now") and ``/mail/<n>/<i>`` downloads its
  attachments; ``/index.json`` lists them for scripts (scripts/screenshots.py).
- ``POST /cxml/...``: the buyer's AP network of the demo's cXML customers. It answers the way the
  cXML 1.2 User's Guide says an InvoiceDetailRequest is answered, ``<Status code="200"
  text="OK"/>`` in a cXML Response envelope, after checking the envelope is cXML with a
  payloadID; it keeps each document under ``<folder>/cxml/``.

    python scripts/mailsink.py --smtp-port 1025 --http-port 8025 --folder .local/mail
"""

import argparse
import email
import email.policy
import html
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from aiosmtpd.controller import Controller

CXML_OK = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/1.2.069/cXML.dtd">\n'
    '<cXML payloadID="{payload}" timestamp="{ts}"><Response><Status code="200" text="OK"/></Response></cXML>\n'
)
CXML_BAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<cXML payloadID="{payload}" timestamp="{ts}"><Response>'
    '<Status code="400" text="Bad Request">{reason}</Status></Response></cXML>\n'
)


class Store:
    def __init__(self, folder):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.lock = threading.Lock()

    def mails(self):
        return sorted(self.folder.glob("*.eml"), key=lambda p: int(p.name.split("-", 1)[0]), reverse=True)

    def add(self, raw):
        with self.lock:
            numbers = [int(p.name.split("-", 1)[0]) for p in self.folder.glob("*.eml")]
            number = max(numbers, default=0) + 1
            subject = email.message_from_bytes(raw, policy=email.policy.default).get("subject", "")
            slug = re.sub(r"[^A-Za-z0-9]+", "-", str(subject))[:60].strip("-") or "mail"
            path = self.folder / f"{number:05d}-{slug}.eml"
            path.write_bytes(raw)
        return path

    def get(self, number):
        found = list(self.folder.glob(f"{int(number):05d}-*.eml"))
        return email.message_from_bytes(found[0].read_bytes(), policy=email.policy.default) if found else None


class SmtpHandler:
    def __init__(self, store):
        self.store = store

    async def handle_DATA(self, server, session, envelope):
        self.store.add(envelope.original_content or envelope.content)
        return "250 Message accepted for delivery"


def page(title, body):
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>"
        + html.escape(title)
        + "</title><style>body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse}"
        "td,th{padding:.3em .6em;border-bottom:1px solid #ddd;text-align:left}"
        "iframe{width:100%;height:75vh;border:1px solid #ccc}</style></head><body>" + body + "</body></html>"
    ).encode()


class Handler(BaseHTTPRequestHandler):
    store = None  # set by main()

    def log_message(self, *args):
        pass

    def _send(self, body, ctype="text/html; charset=utf-8", status=200, extra=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for key, value in extra:
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/":
            return self._send(self.index())
        if path == "/index.json":
            return self._send(json.dumps(self.listing()).encode(), ctype="application/json")
        m = re.fullmatch(r"/mail/(\d+)(?:/(body|\d+))?", path)
        msg = m and self.store.get(m.group(1))
        if not msg:
            return self._send(page("Not found", "<p>No such mail.</p>"), status=404)
        if m.group(2):
            return self.part(msg, m.group(2))
        return self._send(self.show(m.group(1), msg))

    def part(self, msg, what):
        """The HTML body (its links open in the whole tab) or attachment number `what`."""
        if what == "body":
            part = msg.get_body(preferencelist=("html", "plain"))
            content = part.get_content() if part else ""
            if part and part.get_content_type() == "text/plain":
                content = "<pre>" + html.escape(content) + "</pre>"
            return self._send(("<base target='_top'>" + content).encode())
        attachments = list(msg.iter_attachments())
        if int(what) >= len(attachments):
            return self._send(page("Not found", "<p>No such attachment.</p>"), status=404)
        att = attachments[int(what)]
        name = (att.get_filename() or f"attachment-{what}").replace('"', "")
        return self._send(
            att.get_payload(decode=True) or b"",
            ctype=att.get_content_type(),
            extra=[("Content-Disposition", f'inline; filename="{name}"')],
        )

    def do_POST(self):
        if not self.path.startswith("/cxml/"):
            return self._send(b"", status=404)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        ts = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
        payload = re.search(rb'<cXML[^>]*payloadID="([^"]+)"', body)
        if not payload or b"InvoiceDetailRequest" not in body:
            reason = "Not a cXML InvoiceDetailRequest with a payloadID."
            return self._send(
                CXML_BAD.format(payload=f"{time.time()}@sink", ts=ts, reason=reason).encode(),
                ctype="text/xml; charset=UTF-8",
                status=400,
            )
        folder = self.store.folder / "cxml"
        folder.mkdir(exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9.@-]+", "_", payload.group(1).decode())
        (folder / f"{name}.xml").write_bytes(body)
        answer = CXML_OK.format(payload=f"{time.time()}.{name}", ts=ts).encode()
        return self._send(answer, ctype="text/xml; charset=UTF-8")

    def listing(self):
        """[{number, date, to, subject, objects}], newest first (objects: Odoo's X-Odoo-Objects)."""
        rows = []
        for path in self.store.mails():
            msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            rows.append(
                {
                    "number": int(path.name.split("-", 1)[0]),
                    **{key.lower(): str(msg.get(key, "")) for key in ("Date", "To", "Subject")},
                    "objects": str(msg.get("X-Odoo-Objects", "")),
                }
            )
        return rows

    def index(self):
        rows = []
        for path in self.store.mails():
            number = int(path.name.split("-", 1)[0])
            msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            attachments = sum(1 for _ in msg.iter_attachments())
            rows.append(
                f"<tr><td>{html.escape(str(msg.get('date', '')))}</td>"
                f"<td>{html.escape(str(msg.get('to', '')))}</td>"
                f"<td><a href='/mail/{number}'>{html.escape(str(msg.get('subject', '(no subject)')))}</a></td>"
                f"<td>{'📎' * min(attachments, 3)}</td></tr>"
            )
        return page(
            "Demo mail sink",
            f"<h1>Mails sent by the demo ({len(rows)})</h1>"
            f"<p>Stored in <code>{html.escape(str(self.store.folder))}</code>; nothing leaves this machine.</p>"
            "<table><tr><th>Date</th><th>To</th><th>Subject</th><th></th></tr>" + "".join(rows) + "</table>",
        )

    def show(self, number, msg):
        links = "".join(
            f"<li><a href='/mail/{number}/{i}'>{html.escape(att.get_filename() or 'attachment')}</a></li>"
            for i, att in enumerate(msg.iter_attachments())
        )
        head = "".join(
            f"<tr><th>{key}</th><td>{html.escape(str(msg.get(key, '')))}</td></tr>"
            for key in ("From", "To", "Cc", "Date", "Subject")
        )
        return page(
            str(msg.get("subject", "")),
            f"<p><a href='/'>&larr; all mails</a></p><table>{head}</table>"
            f"<ul>{links}</ul><iframe src='/mail/{number}/body'></iframe>",
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smtp-port", type=int, default=1025)
    parser.add_argument("--http-port", type=int, default=8025)
    parser.add_argument("--folder", default=".local/mail")
    args = parser.parse_args()
    store = Store(args.folder)
    controller = Controller(SmtpHandler(store), hostname="127.0.0.1", port=args.smtp_port)
    controller.start()
    Handler.store = store
    http = ThreadingHTTPServer(("127.0.0.1", args.http_port), Handler)
    print(
        f"mail sink: SMTP 127.0.0.1:{args.smtp_port}, mails at http://127.0.0.1:{args.http_port}/ "
        f"(files in {store.folder})",
        flush=True,
    )
    try:
        http.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
