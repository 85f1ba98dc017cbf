import re

from odoo.tests import tagged

from odoo.addons.mail.tests.common import MockEmail

from .test_portal_common import ArPortalCommon


@tagged("post_install", "-at_install")
class TestCustomerMailSenders(ArPortalCommon, MockEmail):
    """What the buyer's mailbox receives: one mail per recipient and message, from the seller's side,
    with a clean subject and a header naming the document."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.email = "ar@seller.example.com"
        cls.env.user.email = "accountant@seller.example.com"
        for code in ("nl_BE", "fr_BE"):
            cls.env["res.lang"]._activate_lang(code)
        for module in ("account", "mail", "ar_customer_centric"):
            cls.env["ir.module.module"]._get(module)._update_translations(["nl_BE", "fr_BE"], overwrite=True)
        # as after the invoice was e-mailed: the buyer company and its contact follow the invoice
        cls.inv_a1.message_subscribe(partner_ids=(cls.buyer_a | cls.contact_a).ids)

    def _buyer_mails(self):
        """{address: [subjects]} of the mails sent to the buyer's side."""
        received = {}
        for mail in self._mails:
            for address in mail["email_to"]:
                if "buyer-a" in address or self.contact_a.email in address:
                    received.setdefault(address, []).append(mail["EmailMessage"]["Subject"])
        return received

    def test_dispute_mails_once_per_recipient(self):
        self.contact_a.lang = "nl_BE"
        self.authenticate("portal_a", "portal_a")
        url = f"/my/invoices/{self.inv_a1.id}/dispute"
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', self.url_open(url).text).group(1)
        with self.mock_mail_gateway():
            response = self.url_open(
                url, data={"csrf_token": csrf, "reason": "wrong_amount", "message": "The price is wrong."}
            )
        self.assertEqual(response.status_code, 200)
        dispute = self.env["ar.dispute"].search([("move_id", "=", self.inv_a1.id)])
        self.assertEqual(dispute.raised_by_id, self.contact_a)
        received = self._buyer_mails()
        self.assertEqual(len(received), 1, f"only the contact who disputed gets a mail: {received}")
        ((address, subjects),) = received.items()
        self.assertIn(self.contact_a.email, address)
        self.assertEqual(subjects, [f"{self.company.name}: we ontvingen uw betwisting van {self.inv_a1.name}"])
        ack = self._new_mails.filtered(lambda m: self.contact_a in m.recipient_ids)
        self.assertEqual(ack.author_id, dispute.user_id.partner_id, "sent by the responsible, not by the buyer")
        # the layout's header names the invoice ("Je Factuur": Odoo's own "Your" is informal in Dutch)
        self.assertIn("Factuur</span>", ack.body_html, "the layout names the invoice")
        self.assertNotIn("Je Factuur", ack.body_html, "formal: no informal 'je' in the header")
        self.assertNotIn("Boekingsstuk", ack.body_html, "not the journal entry")
        # the accountant: one mail (the activity), not also "you have been assigned"
        accountant = [m for m in self._mails if any("accountant@" in a for a in m["email_to"])]
        self.assertEqual(len(accountant), 1, [m["subject"] for m in accountant])
        # the buyer's message is in the invoice's portal thread
        self.assertIn("The price is wrong.", self.inv_a1.website_message_ids.mapped("body")[-1])

        dispute.resolution_note = "Delivered as ordered."
        with self.mock_mail_gateway():
            dispute.action_reject()
        notifications = self.env["mail.notification"].search(
            [("mail_message_id", "in", self.inv_a1.message_ids.ids), ("res_partner_id", "in", self.buyer_a.ids)]
        )
        self.assertFalse(notifications, "the buyer company (a follower) gets no copy of what its contact gets")
        received = self._buyer_mails()
        self.assertEqual(
            received,
            {
                f'"{self.contact_a.name}" <{self.contact_a.email}>': [
                    f"{self.company.name}: uw betwisting van {self.inv_a1.name} is afgewezen"
                ]
            },
        )
        for subject in received.popitem()[1]:
            self.assertEqual(subject, subject.strip())

    def test_portal_notice_is_from_the_seller_and_names_the_invoice(self):
        """The cron (OdooBot) sends it: the author is the invoice's salesperson, the header says invoice."""
        self.buyer_a.lang = "fr_BE"
        self.inv_a1.invoice_user_id = self.env.user
        send = self.env["account.move.send"].with_user(self.env.ref("base.user_root"))
        with self.mock_mail_gateway():
            send._ar_send_portal_notification(self.inv_a1)
        message = self.inv_a1.message_ids.filtered(lambda m: m.subject and "portail" in m.subject)
        self.assertEqual(message.author_id, self.env.user.partner_id)
        self.assertNotEqual(message.author_id, self.env.ref("base.partner_root"))
        mails = self._new_mails.filtered(lambda m: m.mail_message_id == message and self.buyer_a in m.recipient_ids)
        self.assertEqual(len(mails), 1)
        for mail in mails:
            self.assertIn("Facture", mail.body_html)
            self.assertNotIn("criture comptable", mail.body_html)
            self.assertIn("accountant@seller.example.com", mail.email_from)
