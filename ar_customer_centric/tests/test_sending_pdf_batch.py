import io
from unittest.mock import patch

from odoo.tests import tagged
from odoo.tools.pdf import PdfFileReader

from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.addons.base.models.ir_actions_report import IrActionsReport

from ..models.account_move_send import SPLIT_MARK_RE


@tagged("post_install", "-at_install")
class TestSendingPdfBatch(AccountTestInvoicingCommon):
    """A batch of invoices is rendered in ONE wkhtmltopdf call and split per invoice."""

    def _invoice(self, lines):
        return self.init_invoice(
            "out_invoice",
            partner=self.partner_a,
            amounts=[10.0 * (i + 1) for i in range(lines)],
            post=True,
        )

    def test_batch_rendered_in_one_call_and_split(self):
        long_invoice = self._invoice(45)  # two pages
        short_a, short_b = self._invoice(1), self._invoice(2)
        invoices = short_a | long_invoice | short_b
        calls = []
        original = IrActionsReport._run_wkhtmltopdf

        def counting(report, bodies, *args, **kwargs):
            calls.append(len(bodies))
            return original(report, bodies, *args, **kwargs)

        with patch.object(IrActionsReport, "_run_wkhtmltopdf", counting):
            self.env["account.move.send"].with_context(force_report_rendering=True)._generate_and_send_invoices(
                invoices, sending_methods=["manual"]
            )
        self.assertEqual(calls, [1], "one wkhtmltopdf call with one document for the whole batch")
        pages = {}
        for invoice in invoices:
            attachment = invoice.invoice_pdf_report_id
            self.assertTrue(attachment, invoice.name)
            reader = PdfFileReader(io.BytesIO(attachment.raw), strict=False)
            pages[invoice] = len(reader.pages)
            for page in reader.pages:
                for annot in page.get("/Annots") or []:
                    uri = (annot.get_object().get("/A") or {}).get("/URI", "")
                    self.assertFalse(SPLIT_MARK_RE.match(str(uri)), "the split marks are removed")
        self.assertEqual(pages[short_a], 1)
        self.assertEqual(pages[short_b], 1)
        self.assertGreaterEqual(pages[long_invoice], 2)
