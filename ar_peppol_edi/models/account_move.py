import logging
import uuid
from datetime import timedelta

from odoo import api, fields, models, modules
from odoo.exceptions import UserError

from ..tools.invoice_response import parse_invoice_response
from ..tools.locking import lock_free_rows
from ..tools.ubl_validator import RulesUnavailable, get_validator
from .ar_peppol_connector import PeppolConnectorError

_logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
MAX_BACKOFF = 6 * 3600

PEPPOL_STATES = [
    ("to_validate", "To validate"),
    ("invalid", "Invalid"),
    ("ready", "Ready"),
    ("queued", "Queued"),
    ("sent", "Sent"),
    ("delivered", "Delivered"),
    ("accepted", "Accepted"),
    ("rejected", "Rejected"),
    ("paid", "Paid"),
    ("error", "Error"),
]

# Peppol Invoice Response (UNCL 4343 subset) -> our state
RESPONSE_STATES = {
    "AB": "delivered",
    "IP": "delivered",
    "UQ": "delivered",
    "CA": "delivered",  # conditionally accepted: not final, the accountant acts
    "AP": "accepted",
    "RE": "rejected",
    "PD": "paid",
}
STATE_RANK = {"sent": 1, "delivered": 2, "accepted": 3, "rejected": 3, "paid": 4}
FINAL_STATES = ("accepted", "rejected", "paid")


class AccountMove(models.Model):
    _inherit = "account.move"

    ar_peppol_state = fields.Selection(
        selection=PEPPOL_STATES, string="Peppol status", copy=False, index=True, tracking=True
    )
    ar_peppol_finding_ids = fields.One2many("ar.peppol.finding", "move_id", string="Peppol findings", copy=False)
    ar_peppol_fatal_count = fields.Integer(string="Blocking findings", copy=False)
    ar_peppol_validated_at = fields.Datetime(string="Validated on", copy=False)
    ar_peppol_rules_version = fields.Char(string="Validated with", copy=False, readonly=True)
    ar_peppol_connector_id = fields.Many2one(
        "ar.peppol.connector", string="Access point", copy=False, check_company=True
    )
    ar_peppol_idempotency_key = fields.Char(string="Idempotency key", copy=False, readonly=True)
    ar_peppol_message_id = fields.Char(string="Peppol message id", copy=False, readonly=True, index="btree_not_null")
    ar_peppol_attempts = fields.Integer(string="Transmission attempts", copy=False, readonly=True)
    ar_peppol_next_try = fields.Datetime(string="Next attempt", copy=False, readonly=True)
    ar_peppol_queued_at = fields.Datetime(string="Queued on", copy=False, readonly=True)
    ar_peppol_sent_at = fields.Datetime(string="Sent on", copy=False, readonly=True)
    ar_peppol_delivered_at = fields.Datetime(string="Delivered on", copy=False, readonly=True)
    ar_peppol_response_at = fields.Datetime(string="Buyer response on", copy=False, readonly=True)
    ar_peppol_response_code = fields.Char(string="Buyer response code", copy=False, readonly=True)
    ar_peppol_response_label = fields.Char(
        string="Buyer response",
        compute="_compute_ar_peppol_response_label",
        help="The buyer's Invoice Response (Peppol Invoice Response 3, UNCL 4343 status code) in words.",
    )
    ar_peppol_response_reason = fields.Text(string="Buyer response reason", copy=False, readonly=True)
    ar_peppol_answer = fields.Text(string="Access point answer", copy=False, readonly=True)

    @api.depends("ar_peppol_response_code")
    @api.depends_context("lang")
    def _compute_ar_peppol_response_label(self):
        labels = self.env["ar.peppol.finding"]._response_labels()
        for move in self:
            code = move.ar_peppol_response_code
            move.ar_peppol_response_label = f"{labels.get(code, code)} ({code})" if code else False

    # ------------------------------------------------------------------
    # Validation
    # ------------------------------------------------------------------

    def _ar_peppol_builder(self):
        return self.env["account.edi.xml.ubl_bis3"]

    def _ar_peppol_export(self):
        """The BIS 3 XML of this invoice and the builder's own errors (before any rule runs)."""
        self.ensure_one()
        return self._ar_peppol_builder()._export_invoice(self)

    def _ar_peppol_validate_xml(self, xml):
        """Run the official rules on ``xml`` and store the findings. Returns the number of fatal
        findings, or None when the rules are not available (the invoice is then NOT validated)."""
        self.ensure_one()
        Finding = self.env["ar.peppol.finding"]
        location = self.company_id._ar_peppol_rules_location()
        self.ar_peppol_finding_ids.unlink()
        try:
            result = get_validator(location).validate(xml)
        except RulesUnavailable as exc:
            _logger.warning("Peppol rules not available: %s", exc)
            Finding.create(Finding._not_validated_vals(self, str(exc)))
            self.write(
                {
                    "ar_peppol_state": "to_validate",
                    "ar_peppol_fatal_count": 1,
                    "ar_peppol_validated_at": False,
                    "ar_peppol_rules_version": False,
                }
            )
            return None
        version = result.get("version") or False
        Finding.create([Finding._finding_vals(self, finding, version) for finding in result["findings"]])
        self.write(
            {
                "ar_peppol_state": "invalid" if result["fatal"] else "ready",
                "ar_peppol_fatal_count": result["fatal"],
                "ar_peppol_validated_at": fields.Datetime.now(),
                "ar_peppol_rules_version": version,
            }
        )
        return result["fatal"]

    def _ar_peppol_export_and_validate(self):
        """Build and validate; returns (xml or None, fatal count or None)."""
        self.ensure_one()
        try:
            xml, errors = self._ar_peppol_export()
        except UserError as exc:
            errors, xml = {str(exc)}, None
        if errors:
            Finding = self.env["ar.peppol.finding"]
            self.ar_peppol_finding_ids.unlink()
            Finding.create([Finding._export_error_vals(self, error) for error in sorted(errors)])
            self.write({"ar_peppol_state": "invalid", "ar_peppol_fatal_count": len(errors)})
            return None, len(errors)
        return xml, self._ar_peppol_validate_xml(xml)

    def action_ar_peppol_validate(self):
        """Check the invoices against the official Peppol BIS 3 rules and show the findings."""
        moves = self.filtered(lambda m: m.is_sale_document() and m.state == "posted")
        if not moves:
            raise UserError(self.env._("Only posted customer invoices and credit notes can be checked for Peppol."))
        for move in moves:
            if move.ar_peppol_state in ("queued", "sent", "delivered", "accepted", "rejected", "paid"):
                continue
            move._ar_peppol_export_and_validate()
        return True

    # ------------------------------------------------------------------
    # Queue and transmission
    # ------------------------------------------------------------------

    def _ar_peppol_queue(self, connector=None):
        """Put validated invoices in the transmission queue (the cron sends them)."""
        now = fields.Datetime.now()
        for move in self:
            move.write(
                {
                    "ar_peppol_state": "queued",
                    "ar_peppol_connector_id": (connector or move.company_id.ar_peppol_connector_id).id,
                    # one key per invoice, kept across retries: the access point drops duplicates
                    "ar_peppol_idempotency_key": move.ar_peppol_idempotency_key or str(uuid.uuid4()),
                    "ar_peppol_queued_at": now,
                    "ar_peppol_next_try": now,
                    "ar_peppol_attempts": 0,
                }
            )
        cron = self.env.ref("ar_peppol_edi.ir_cron_ar_peppol_transmit", raise_if_not_found=False)
        if cron and self:
            cron._trigger()

    def action_ar_peppol_retry(self):
        """Queue again the invoices whose transmission failed."""
        for move in self.filtered(lambda m: m.ar_peppol_state == "error"):
            if not move.ubl_cii_xml_id:
                raise UserError(
                    self.env._("%(invoice)s has no Peppol document: send it again.", invoice=move.display_name)
                )
            move._ar_peppol_queue(move.ar_peppol_connector_id)
        return True

    def _ar_peppol_can_commit(self):
        # tests run in one transaction that must not be committed
        return not modules.module.current_test

    @api.model
    def _ar_peppol_transmit_domain(self):
        return [
            ("ar_peppol_state", "=", "queued"),
            "|",
            ("ar_peppol_next_try", "=", False),
            ("ar_peppol_next_try", "<=", fields.Datetime.now()),
        ]

    @api.model
    def _cron_ar_peppol_transmit(self, batch_size=50):
        """Hand queued invoices to their access point, committing after each one.

        Each invoice is claimed with a row lock before it leaves (SKIP LOCKED), so that two
        workers running the queue at once (the cron and a manual run) never hand the same
        invoice over twice. A crash between the access point's answer and the commit makes the
        next run send the invoice again with the same idempotency key, which the access point
        recognises: nothing is transmitted twice. Returns the number of invoices handed over."""
        domain = self._ar_peppol_transmit_domain()
        moves = self.search(domain, limit=batch_size, order="ar_peppol_next_try, id")
        remaining = self.search_count(domain) - len(moves)
        done = 0
        for index, move in enumerate(moves, start=1):
            claimed = lock_free_rows(move).filtered_domain(domain)
            if claimed:
                claimed._ar_peppol_transmit()
                done += 1
            if self._ar_peppol_can_commit():
                self.env["ir.cron"]._commit_progress(1, remaining=remaining + len(moves) - index)
        if remaining and self._ar_peppol_can_commit():
            self.env.ref("ar_peppol_edi.ir_cron_ar_peppol_transmit")._trigger()
        return done

    def _ar_peppol_transmit(self):
        self.ensure_one()
        connector = self.ar_peppol_connector_id or self.company_id.ar_peppol_connector_id
        attachment = self.ubl_cii_xml_id
        if not connector or not attachment:
            self._ar_peppol_fail(
                self.env._("No access point is configured for %(company)s.", company=self.company_id.name)
                if not connector
                else self.env._("The Peppol document of this invoice is missing: send it again.")
            )
            return
        if not self._ar_peppol_recheck(connector, attachment.raw):
            return
        try:
            result = connector._submit(self, attachment.raw, attachment.name, self.ar_peppol_idempotency_key)
        except PeppolConnectorError as exc:
            self._ar_peppol_handle_error(exc)
            return
        self.write(
            {
                "ar_peppol_state": "sent",
                "ar_peppol_connector_id": connector.id,
                "ar_peppol_message_id": result["message_id"] or self.ar_peppol_message_id,
                "ar_peppol_sent_at": self.ar_peppol_sent_at or fields.Datetime.now(),
                "ar_peppol_answer": result.get("answer"),
                "ar_peppol_attempts": self.ar_peppol_attempts + 1,
                "ar_peppol_next_try": False,
            }
        )
        if result.get("replayed"):
            body = self.env._(
                "%(connector)s had already accepted this invoice on an earlier attempt (same idempotency "
                "key): it was not sent again. Its message id follows with the access point's next status.",
                connector=connector.name,
            )
        else:
            body = self.env._(
                "Sent on Peppol through %(connector)s (message %(message)s).",
                connector=connector.name,
                message=result["message_id"],
            )
        if connector.provider == "sandbox":
            body = self.env._("SANDBOX (nothing was sent): %(body)s", body=body)
        self._message_log(body=body)

    def _ar_peppol_recheck(self, connector, xml):
        """Validate the exact file once more just before it leaves (the rules or the data may have
        changed since it was queued). Returns True when it may be sent."""
        fatal = self._ar_peppol_validate_xml(xml)
        if fatal is None:
            # the rules are missing right now: keep the invoice queued and try again later
            self.write(
                {
                    "ar_peppol_state": "queued",
                    "ar_peppol_next_try": fields.Datetime.now() + timedelta(hours=1),
                    "ar_peppol_answer": self.env._("Not sent: the official Peppol rules are not available."),
                }
            )
            return False
        if fatal:
            self._ar_peppol_fail(
                self.env._(
                    "Not sent: the Peppol document no longer passes the official rules (%(rules)s).",
                    rules=", ".join(self.ar_peppol_finding_ids.filtered(lambda f: f.flag == "fatal").mapped("rule")),
                )
            )
            self.ar_peppol_state = "invalid"
            return False
        self.ar_peppol_state = "queued"
        return True

    def _ar_peppol_handle_error(self, exc):
        attempts = self.ar_peppol_attempts + 1
        if exc.kind in ("refused",) or attempts >= MAX_ATTEMPTS:
            self._ar_peppol_fail(exc.message, answer=exc.answer)
            return
        delay = exc.retry_after or min(60 * 2**attempts, MAX_BACKOFF)
        self.write(
            {
                "ar_peppol_attempts": attempts,
                "ar_peppol_next_try": fields.Datetime.now() + timedelta(seconds=delay),
                "ar_peppol_answer": exc.answer or exc.message,
            }
        )

    def _ar_peppol_fail(self, message, answer=None):
        self.write(
            {
                "ar_peppol_state": "error",
                "ar_peppol_answer": answer or message,
                "ar_peppol_attempts": self.ar_peppol_attempts + 1,
                "ar_peppol_next_try": False,
            }
        )
        self.activity_schedule(
            "mail.mail_activity_data_todo",
            summary=self.env._("Peppol sending failed"),
            note=message,
            user_id=self.invoice_user_id.id or self.env.uid,
        )

    # ------------------------------------------------------------------
    # Status and buyer responses
    # ------------------------------------------------------------------

    @api.model
    def _cron_ar_peppol_fetch_status(self, batch_size=100):
        """Ask the access points about sent invoices that have no final answer yet."""
        moves = self.search(
            [("ar_peppol_state", "in", ("sent", "delivered")), ("ar_peppol_message_id", "!=", False)],
            limit=batch_size,
            order="ar_peppol_sent_at, id",
        )
        for move in moves:
            connector = move.ar_peppol_connector_id
            if not connector:
                continue
            try:
                event = connector._fetch_status(move)
            except PeppolConnectorError as exc:
                move.ar_peppol_answer = exc.answer or exc.message
                continue
            move._ar_peppol_apply_event(event)
            if self._ar_peppol_can_commit():
                self.env["ir.cron"]._commit_progress(1)
        return len(moves)

    def _ar_peppol_apply_event(self, event):
        """Apply one status event ``{"state"?, "response_code"?, "reason"?, "answer"?,
        "message_id"?, "invoice_response"? (the XML of a Peppol Invoice Response)}``.

        The state machine only moves forward: a late or replayed "failed" never turns a delivered,
        accepted, rejected or paid invoice into an error, and a final buyer answer is never
        overwritten by another one."""
        self.ensure_one()
        if event.get("invoice_response"):
            parsed = parse_invoice_response(event["invoice_response"])
            if not parsed or parsed["kind"] != "invoice_response" or parsed["invoice"] != self.name:
                _logger.info("Peppol document for %s is not an Invoice Response for it: ignored", self.name)
            else:
                event = dict(event, response_code=parsed["code"], reason=parsed["reason"])
        vals = {}
        if event.get("message_id") and not self.ar_peppol_message_id:
            vals["ar_peppol_message_id"] = event["message_id"]  # recovered after an idempotent replay
        state = event.get("state")
        if state == "failed":
            if self.ar_peppol_state in ("queued", "sent"):
                self.write(vals)
                self._ar_peppol_fail(self.env._("The access point could not deliver the invoice."), event.get("answer"))
            else:
                _logger.info("Late 'failed' status for %s (%s): ignored", self.name, self.ar_peppol_state)
                if vals:
                    self.write(vals)
            return
        if event.get("answer"):
            vals["ar_peppol_answer"] = event["answer"]
        if state == "delivered" and self.ar_peppol_state in ("queued", "sent", "error"):
            vals.update(ar_peppol_state="delivered", ar_peppol_delivered_at=fields.Datetime.now())
        code = (event.get("response_code") or "").upper()
        if code:
            self._ar_peppol_apply_response(code, event.get("reason"), vals)
        if vals:
            self.write(vals)

    def _ar_peppol_apply_response(self, code, reason, vals):
        """Peppol Invoice Response 3 (UNCL 4343 subset): AB, IP, UQ keep the invoice delivered;
        CA (conditionally accepted) is not final and asks the accountant to act; RE and AP are
        final and exclusive; PD (paid) only follows AP."""
        labels = self.env["ar.peppol.finding"]._response_labels()
        if code not in RESPONSE_STATES:
            _logger.warning("Unknown Peppol invoice response code %s on %s", code, self.name)
            return
        current = vals.get("ar_peppol_state", self.ar_peppol_state)
        reason = reason or False
        if code == self.ar_peppol_response_code and reason == (self.ar_peppol_response_reason or False):
            return  # the same answer again (replayed webhook, poll): nothing new
        if current in FINAL_STATES and not (code == "PD" and current == "accepted"):
            self._message_log(
                body=self.env._(
                    "Peppol buyer response %(code)s ignored: the invoice already has the final answer %(final)s.",
                    code=code,
                    final=self.ar_peppol_response_code or current,
                )
            )
            return
        if code == "PD" and current != "accepted":
            self._message_log(
                body=self.env._("Peppol buyer response PD (paid) ignored: the buyer has not accepted the invoice.")
            )
            return
        new_state = RESPONSE_STATES[code]
        vals.update(
            ar_peppol_response_code=code,
            ar_peppol_response_reason=reason,
            ar_peppol_response_at=fields.Datetime.now(),
        )
        if STATE_RANK.get(new_state, 0) >= STATE_RANK.get(current, 0):
            vals["ar_peppol_state"] = new_state
            if not self.ar_peppol_delivered_at:
                vals["ar_peppol_delivered_at"] = fields.Datetime.now()
        body = self.env._("Peppol buyer response: %(label)s (%(code)s).", label=labels[code], code=code)
        if reason:
            body = self.env._("%(body)s Reason: %(reason)s", body=body, reason=reason)
        self._message_log(body=body)
        summaries = {
            "RE": self.env._("The buyer rejected the invoice on Peppol"),
            "UQ": self.env._("The buyer has a question about the invoice"),
            "CA": self.env._("The buyer accepts the invoice on conditions"),
        }
        if code in summaries:
            self.activity_schedule(
                "mail.mail_activity_data_todo",
                summary=summaries[code],
                note=reason or self.env._("No reason given."),
                user_id=self.invoice_user_id.id or self.env.uid,
            )

    @api.model
    def _ar_peppol_find_by_message(self, connector, message_ids=(), idempotency_keys=()):
        """The invoices sent through ``connector`` with these message ids or idempotency keys."""
        return self.search(
            [
                ("ar_peppol_connector_id", "=", connector.id),
                ("company_id", "=", connector.company_id.id),
                "|",
                ("ar_peppol_message_id", "in", list(message_ids)),
                ("ar_peppol_idempotency_key", "in", list(idempotency_keys)),
            ]
        )

    @api.model
    def _ar_peppol_import_invoice_response(self, xml, company=None, connector=None):
        """Apply a received Peppol Invoice Response (UBL ApplicationResponse) to the invoice it
        refers to. Returns the invoice, or an empty recordset when it is not ours. With
        ``connector`` (a response that came through an access point), only an invoice sent through
        that connector is touched."""
        parsed = parse_invoice_response(xml)
        if not parsed:
            raise UserError(self.env._("This document is not a Peppol Invoice Response."))
        if parsed["kind"] != "invoice_response":
            # a Message Level Response says whether the document could be processed, not what
            # the buyer thinks of the invoice: no business status comes from it
            _logger.info(
                "Peppol Message Level Response %s for %s: not a buyer response", parsed["code"], parsed["invoice"]
            )
            return self.browse()
        company = company or self.env.company
        move = self.search(
            [
                ("name", "=", parsed["invoice"]),
                ("company_id", "=", company.id),
                ("move_type", "in", ("out_invoice", "out_refund")),
                ("ar_peppol_state", "in", ("sent", "delivered", "accepted", "rejected", "paid")),
                *([("ar_peppol_connector_id", "=", connector.id)] if connector else []),
            ],
            limit=1,
        )
        if move:
            move._ar_peppol_apply_event({"invoice_response": xml})
        return move
