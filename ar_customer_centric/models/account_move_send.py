import io
import logging
import re
from collections import defaultdict

import lxml.html

from odoo import api, models, modules, tools
from odoo.tools.pdf import ArrayObject, NameObject, PdfFileReader, PdfFileWriter

from odoo.addons.base.models.ir_actions_report import _wkhtml

_logger = logging.getLogger(__name__)

# Channels that put the document in the customer's hands ("manual" only downloads it).
DELIVERY_CHANNELS = {"email", "ar_portal", "ar_cxml", "ar_letter", "peppol", "ar_peppol", "snailmail"}
AR_CHANNELS = {"ar_portal", "ar_cxml", "ar_letter"}
# A link at the top of every invoice of a one-call batch PDF tells where each invoice starts;
# it is removed from the split documents.
SPLIT_MARK = "https://split.ar-suite.invalid/%s"
SPLIT_MARK_RE = re.compile(r"^https://split\.ar-suite\.invalid/(\d+)$")


class AccountMoveSend(models.AbstractModel):
    _inherit = "account.move.send"

    # ------------------------------------------------------------------
    # PREFERENCES AND FALLBACK
    # ------------------------------------------------------------------

    @api.model
    def _ar_can_deliver(self, method, move):
        return self._is_applicable_to_company(method, move.company_id) and self._is_applicable_to_move(method, move)

    @api.model
    def _ar_resolve_sending_method(self, move):
        """(method, is_fallback): the preferred channel, or the fallback when it cannot deliver."""
        partner = move.commercial_partner_id.with_company(move.company_id)
        preferred = partner.invoice_sending_method or "email"
        fallback = partner.ar_fallback_sending_method
        if not fallback or fallback == preferred or self._ar_can_deliver(preferred, move):
            return preferred, False
        if self._ar_can_deliver(fallback, move):
            return fallback, True
        return preferred, False

    @api.model
    def _get_default_sending_methods(self, move) -> set:
        # EXTENDS 'account': replace a preferred channel that cannot deliver by the fallback
        methods = super()._get_default_sending_methods(move)
        method, is_fallback = self._ar_resolve_sending_method(move)
        if is_fallback:
            preferred = move.commercial_partner_id.with_company(move.company_id).invoice_sending_method
            methods.discard(preferred)
            methods.add(method)
        return methods

    @api.model
    def _is_applicable_to_move(self, method, move, **move_data):
        # EXTENDS 'account'
        if method in AR_CHANNELS:
            partner = move.commercial_partner_id.with_company(move.company_id)
            if method == "ar_cxml" and move.ar_delivery_log_ids.filtered(
                lambda log: log.channel == "ar_cxml" and log.state in ("sent", "pending")
            ):
                return False  # never the same invoice twice to the AP network
            return not partner._ar_delivery_problems(method)
        applicable = super()._is_applicable_to_move(method, move, **move_data)
        if method == "email" and applicable and "mail_partner_ids" not in move_data:
            partner = move.commercial_partner_id.with_company(move.company_id)
            return bool(move.partner_id.email) or not partner._ar_delivery_problems("email")
        return applicable

    @api.model
    def _get_default_mail_template_id(self, move):
        # EXTENDS 'account': the suite's formal invoice and credit note e-mails replace Odoo's
        # (which greet the customer by name, informally in Dutch). Only Odoo's own default is
        # replaced: a template chosen in the wizard or kept in the move's sending data never comes
        # here, one another module returns stays; archiving ours restores Odoo's.
        template = super()._get_default_mail_template_id(move)
        if not move or not all(m.is_sale_document() for m in move):
            return template  # vendor bills, receipts: Odoo's
        ours = {
            "account.email_template_edi_invoice": "ar_customer_centric.ar_mail_template_invoice",
            "account.email_template_edi_credit_note": "ar_customer_centric.ar_mail_template_credit_note",
        }
        for odoo_xmlid, ar_xmlid in ours.items():
            if template == self.env.ref(odoo_xmlid, raise_if_not_found=False):
                formal = self.env.ref(ar_xmlid, raise_if_not_found=False)
                return formal if formal and formal.active else template
        return template

    @api.model
    def _get_default_mail_partner_ids(self, move, mail_template, mail_lang):
        # EXTENDS 'account': the invoice recipients replace the invoice address
        partners = super()._get_default_mail_partner_ids(move, mail_template, mail_lang)
        commercial = move.commercial_partner_id
        if commercial.ar_invoice_contact_ids:
            partners = (partners - move.partner_id - commercial) | commercial.ar_invoice_contact_ids.filtered("email")
        return partners

    @api.model
    def _get_mail_params(self, move, move_data):
        # EXTENDS 'account': PDF only when the customer does not want the e-invoice XML by e-mail
        params = super()._get_mail_params(move, move_data)
        if move.commercial_partner_id.with_company(move.company_id).ar_email_pdf_only:
            params["attachments"] = [
                (name, raw) for name, raw in params["attachments"] if not name.lower().endswith(".xml")
            ]
        return params

    # ------------------------------------------------------------------
    # ALERTS (the wizards show them; 'danger' ones block a single send)
    # ------------------------------------------------------------------

    @api.model
    def _get_alerts(self, moves, moves_data):
        # EXTENDS 'account'
        alerts = super()._get_alerts(moves, moves_data)
        is_batch = len(moves) > 1
        problems = []
        for move in moves:
            methods = set(moves_data[move]["sending_methods"] or ())
            for method in methods & AR_CHANNELS:
                partner = move.commercial_partner_id.with_company(move.company_id)
                problems += partner._ar_delivery_problems(method) + partner._ar_format_problems(method)
                if method == "ar_cxml" and move.state == "posted":
                    problems += move._ar_cxml_problems()
        if problems:
            alerts["ar_customer_centric_channel"] = {
                "level": "warning" if is_batch else "danger",
                "message": "\n".join(dict.fromkeys(problems)),
            }
        delivered = moves.filtered(lambda m: m.ar_delivery_state == "sent")
        if delivered and not self.env.context.get("ar_resend"):
            alerts["ar_customer_centric_already_delivered"] = {
                "level": "info" if is_batch else "warning",
                "message": self.env._(
                    "Already delivered, so not delivered again: %(invoices)s. Use “Resend” on the "
                    "invoice to deliver it once more.",
                    invoices=", ".join(delivered.mapped("name")),
                ),
            }
        return alerts

    # ------------------------------------------------------------------
    # PDF: ONE wkhtmltopdf CALL PER BATCH
    # ------------------------------------------------------------------

    @api.model
    def _prepare_invoice_pdf_report(self, invoices_data):
        # EXTENDS 'account': Odoo renders a batch in one wkhtmltopdf call only with a patched Qt
        # (several input documents, split on outlines); Debian's wkhtmltopdf is unpatched, so
        # Odoo renders one invoice per call (1-2 s each). Render the batch as ONE document
        # instead, one invoice per page break, and split the PDF on a link at each start.
        Report = self.env["ir.actions.report"]
        html_only = (modules.module.current_test or tools.config["test_enable"]) and not self.env.context.get(
            "force_report_rendering"
        )  # the same condition as ir.actions.report._pre_render_qweb_pdf
        if len(invoices_data) < 2 or html_only or _wkhtml().is_patched_qt:
            return super()._prepare_invoice_pdf_report(invoices_data)
        by_report = defaultdict(dict)
        for invoice, invoice_data in invoices_data.items():
            by_report[invoice_data["pdf_report"]][invoice] = invoice_data
        for pdf_report, group in by_report.items():
            invoices = self.env["account.move"].union(*group)
            company = invoices[:1].company_id
            pdfs = self._ar_render_invoices_one_call(Report.with_company(company), pdf_report, invoices)
            if pdfs is None:
                super()._prepare_invoice_pdf_report(group)
                continue
            for invoice, invoice_data in group.items():
                invoice_data["pdf_attachment_values"] = {
                    "name": invoice._get_invoice_report_filename(report=pdf_report),
                    "raw": pdfs[invoice.id],
                    "mimetype": "application/pdf",
                    "res_model": invoice._name,
                    "res_id": invoice.id,
                    "res_field": "invoice_pdf_report_file",
                }
        return None

    @api.model
    def _ar_render_invoices_one_call(self, Report, pdf_report, invoices):
        """{invoice id: PDF bytes} rendered in one wkhtmltopdf call, or None when the PDF
        cannot be split (the caller then renders one invoice per call)."""
        Report = Report.with_context(webp_as_jpg=True)
        html = Report._render_qweb_html(pdf_report.report_name, invoices.ids, data={"report_type": "pdf"})[0]
        bodies, html_ids, header, footer, paper_args = Report._prepare_html(html, report_model="account.move")
        if sorted(i for i in html_ids if i) != sorted(invoices.ids) or len(bodies) != len(html_ids):
            return None
        documents = [lxml.html.document_fromstring(body) for body in bodies]
        merged = documents[0]
        merged_body = merged.find("body")
        for index, (document, res_id) in enumerate(zip(documents, html_ids, strict=True)):
            body = document.find("body")
            mark = lxml.html.fromstring(
                f'<a href="{SPLIT_MARK % res_id}" style="display:block;height:1px;font-size:1px;color:#fff">.</a>'
            )
            if index:
                merged_body.append(lxml.html.fromstring('<div style="page-break-before: always;"></div>'))
                merged_body.append(mark)
                for child in list(body):
                    merged_body.append(child)
            else:
                merged_body.insert(0, mark)
        content = Report._run_wkhtmltopdf(
            [lxml.html.tostring(merged, encoding="unicode")],
            report_ref=pdf_report.report_name,
            header=header,
            footer=footer,
            landscape=self.env.context.get("landscape"),
            specific_paperformat_args=paper_args,
        )
        reader = PdfFileReader(io.BytesIO(content), strict=False)
        starts = {}
        for page_index, page in enumerate(reader.pages):
            for annot in page.get("/Annots") or []:
                action = annot.get_object().get("/A")
                uri = action and action.get_object().get("/URI")
                match = uri and SPLIT_MARK_RE.match(str(uri))
                if match:
                    starts.setdefault(int(match.group(1)), page_index)
        order = sorted((page_index, res_id) for res_id, page_index in starts.items())
        if [res_id for _page, res_id in order] != [i for i in html_ids if i]:
            _logger.warning("invoice PDFs: could not split the batch of %s, rendering one per call", len(invoices))
            return None
        result = {}
        for i, (first, res_id) in enumerate(order):
            last = order[i + 1][0] if i + 1 < len(order) else len(reader.pages)
            writer = PdfFileWriter()
            for page_index in range(first, last):
                page = reader.pages[page_index]
                if "/Annots" in page:
                    kept = [
                        annot
                        for annot in page["/Annots"]
                        if not SPLIT_MARK_RE.match(str((annot.get_object().get("/A") or {}).get("/URI", "")))
                    ]
                    page[NameObject("/Annots")] = ArrayObject(kept)
                writer.add_page(page)
            buffer = io.BytesIO()
            writer.write(buffer)
            result[res_id] = buffer.getvalue()
        return result

    # ------------------------------------------------------------------
    # PIPELINE
    # ------------------------------------------------------------------

    @api.model
    def _ar_prepare_moves_data(self, moves_data):
        """Decide per move: hold for the statement, skip (already delivered) or deliver (maybe by fallback)."""
        resend = self.env.context.get("ar_resend")
        for move, move_data in moves_data.items():
            if "ar_action" in move_data:
                continue
            methods = set(move_data["sending_methods"] or ())
            delivery = methods & DELIVERY_CHANNELS
            partner = move.commercial_partner_id.with_company(move.company_id)
            move_data["ar_action"] = "deliver"
            if not delivery:
                continue
            if move.ar_delivery_state == "sent" and not resend:
                move_data["ar_action"] = "skip"
            elif (
                partner.ar_invoice_grouping == "statement"
                and not resend
                and move.move_type in ("out_invoice", "out_refund")
            ):
                move_data["ar_action"] = "hold"
            if move_data["ar_action"] != "deliver":
                move_data["ar_stripped_methods"] = delivery
                move_data["sending_methods"] = methods - delivery
                continue
            preferred = partner.invoice_sending_method or "email"
            fallback = partner.ar_fallback_sending_method
            move_data["ar_fallback"] = bool(fallback and preferred not in methods and fallback in methods)

    @api.model
    def _generate_invoice_documents(self, invoices_data, allow_fallback_pdf=False):
        # EXTENDS 'account': decide the delivery before any web service is called
        self._ar_prepare_moves_data(invoices_data)
        return super()._generate_invoice_documents(invoices_data, allow_fallback_pdf=allow_fallback_pdf)

    @api.model
    def _call_web_service_after_invoice_pdf_render(self, invoices_data):
        # EXTENDS 'account': POST to the buyer's AP network (cXML)
        res = super()._call_web_service_after_invoice_pdf_render(invoices_data)
        for move, move_data in invoices_data.items():
            if "ar_cxml" not in (move_data["sending_methods"] or ()) or move_data.get("error"):
                continue
            partner = move.commercial_partner_id.with_company(move.company_id)
            if problems := partner._ar_delivery_problems("ar_cxml"):
                move_data["error"] = {
                    "error_title": self.env._("The invoice could not be delivered to the buyer's AP portal."),
                    "errors": problems,
                }
                continue
            state, message = move._ar_cxml_post(
                is_fallback=move_data.get("ar_fallback", False), pdf_values=move_data.get("pdf_attachment_values")
            )
            if state in ("failed", "check"):
                move_data["error"] = {
                    "error_title": self.env._("The invoice could not be delivered to the buyer's AP portal."),
                    "errors": [message],
                }
        return res

    @api.model
    def _hook_if_success(self, moves_data, from_cron=False):
        # EXTENDS 'account': deliver through our channels and write the delivery trace
        self._ar_prepare_moves_data(moves_data)
        res = super()._hook_if_success(moves_data, from_cron=from_cron)
        Move = self.env["account.move"]
        held, skipped = Move, Move
        portal, letters = {}, Move
        for move, move_data in moves_data.items():
            action = move_data.get("ar_action")
            if action == "hold":
                held |= move
            elif action == "skip":
                skipped |= move
            methods = set(move_data["sending_methods"] or ())
            fallback = move_data.get("ar_fallback", False)
            if "email" in methods and self._is_applicable_to_move("email", move, **move_data):
                recipients = self.env["res.partner"].browse(move_data.get("mail_partner_ids") or []) or move.partner_id
                move._ar_log_delivery(
                    "email", "sent", destination=", ".join(recipients.mapped("email")), is_fallback=fallback
                )
            if "ar_portal" in methods and self._is_applicable_to_move("ar_portal", move):
                portal[move] = fallback
            if "ar_letter" in methods and self._is_applicable_to_move("ar_letter", move):
                letters |= move
                move._ar_log_delivery(
                    "ar_letter",
                    "queued",
                    destination=move.commercial_partner_id._display_address(without_company=True).replace("\n", ", "),
                    message=self.env._("Waiting in the postal letter print batch."),
                    is_fallback=fallback,
                )
        for move, fallback in portal.items():
            self._ar_send_portal_notification(move, fallback)
        for move in held:
            move._ar_log_delivery(
                moves_data[move]["ar_stripped_methods"] and sorted(moves_data[move]["ar_stripped_methods"])[0],
                "held",
                message=self.env._("Held: the customer receives it in the next consolidated statement."),
            )
        for move in skipped:
            move._ar_log_delivery(
                move.ar_delivery_channel or sorted(moves_data[move]["ar_stripped_methods"])[0],
                "skipped",
                message=self.env._("Already delivered on %(date)s: not delivered again.", date=move.ar_delivered_on),
            )
        return res

    @api.model
    def _ar_send_portal_notification(self, move, is_fallback=False):
        """E-mail without attachment: the invoice is waiting in the customer's portal."""
        template = self.env.ref("ar_customer_centric.ar_mail_template_portal_invoice")
        recipients = move.commercial_partner_id._ar_invoice_recipients().filtered("email")
        lang = template._render_lang(move.ids)[move.id]
        # sudo: rendering a company mail template, as core's _get_mail_default_field_value_from_template
        template = template.sudo().with_context(lang=lang)
        move.message_post(
            body=template._render_field("body_html", move.ids, compute_lang=True)[move.id],
            subject=template._render_field("subject", move.ids, compute_lang=True)[move.id],
            partner_ids=recipients.ids,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
            email_layout_xmlid="ar_customer_centric.mail_notification_light",
            # from the invoice's salesperson or the company, as the template's email_from says, never from
            # whoever runs the sending (OdooBot for the cron)
            author_id=(move.invoice_user_id.partner_id or move.company_id.partner_id).id,
            email_from=template._render_field("email_from", move.ids)[move.id],
            # the layout's header says "Your Invoice", not the model's name ("Journal Entry"), as core's sending
            model_description=move.with_context(lang=lang).type_name,
        )
        move._ar_log_delivery(
            "ar_portal", "sent", destination=", ".join(recipients.mapped("email")), is_fallback=is_fallback
        )
