"""The developer commands around the product: a fresh machine without Odoo, make run's mail sink."""

import os
import smtplib
import socket
import subprocess
import sys
import time
import urllib.request
from email.message import EmailMessage
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_missing_odoo_source_fails_with_the_command_to_get_it(tmp_path):
    env = dict(os.environ, ODOO_SRC=str(tmp_path / "no-odoo"), CI="true")
    res = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "arsuite.py"), "test"],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    assert res.returncode != 0, "a missing Odoo must fail the run, never skip it"
    out = res.stdout + res.stderr
    assert f"git clone --depth 1 --branch 19.0 https://github.com/odoo/odoo.git {tmp_path / 'no-odoo'}" in out
    assert out.strip().splitlines()[-1] == "0 passed, 1 failed"
    assert not (tmp_path / "no-odoo").exists(), "nothing is fetched in CI"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_mail_sink_stores_and_shows_mails_and_answers_cxml(tmp_path):
    smtp_port, http_port = free_port(), free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            str(REPO / "scripts" / "mailsink.py"),
            "--smtp-port",
            str(smtp_port),
            "--http-port",
            str(http_port),
            "--folder",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        for _i in range(100):
            try:
                socket.create_connection(("127.0.0.1", http_port), timeout=0.2).close()
                socket.create_connection(("127.0.0.1", smtp_port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = "ar@seller.example", "ap@buyer.example", "Factuur INV/2026/00042"
        msg.set_content("Betaal nu")
        msg.add_alternative('<p><a href="http://127.0.0.1:8069/pay/42">Nu betalen</a></p>', subtype="html")
        msg.add_attachment(b"%PDF-1.4 demo", maintype="application", subtype="pdf", filename="INV_2026_00042.pdf")
        with smtplib.SMTP("127.0.0.1", smtp_port) as smtp:
            smtp.send_message(msg)
        stored = list(tmp_path.glob("*.eml"))
        assert len(stored) == 1 and b"INV/2026/00042" in stored[0].read_bytes()
        base = f"http://127.0.0.1:{http_port}"
        index = urllib.request.urlopen(f"{base}/").read().decode()
        assert "Factuur INV/2026/00042" in index and "ap@buyer.example" in index
        body = urllib.request.urlopen(f"{base}/mail/1/body").read().decode()
        assert 'href="http://127.0.0.1:8069/pay/42"' in body
        assert urllib.request.urlopen(f"{base}/mail/1/0").read() == b"%PDF-1.4 demo"
        request = urllib.request.Request(
            f"{base}/cxml/inbound/7",
            data=b'<cXML payloadID="7.abc@seller"><Request><InvoiceDetailRequest/></Request></cXML>',
            headers={"Content-Type": "text/xml"},
        )
        answer = urllib.request.urlopen(request).read().decode()
        assert '<Status code="200" text="OK"/>' in answer
        assert (tmp_path / "cxml" / "7.abc@seller.xml").is_file()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
