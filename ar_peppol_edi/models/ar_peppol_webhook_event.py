from odoo import api, fields, models


class ArPeppolWebhookEvent(models.Model):
    """The webhook events already processed, per connector: a replayed event is refused."""

    _name = "ar.peppol.webhook.event"
    _description = "Peppol webhook event (processed)"
    _order = "id desc"

    connector_id = fields.Many2one("ar.peppol.connector", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="connector_id.company_id", store=True, index=True)
    event_key = fields.Char(required=True, help="The provider's event id, or the signature of the call.")
    received_at = fields.Datetime(default=fields.Datetime.now, required=True)

    _event_unique = models.Constraint("UNIQUE(connector_id, event_key)", "This webhook event was already processed.")

    @api.model
    def _claim(self, connector, event_key):
        """Record the event; False when it was already processed (a replay). Safe against two
        concurrent deliveries of the same event (the unique index decides)."""
        self.env.cr.execute(
            """INSERT INTO ar_peppol_webhook_event (connector_id, company_id, event_key, received_at,
                                                      create_uid, create_date, write_uid, write_date)
               VALUES (%s, %s, %s, now() at time zone 'UTC', %s, now() at time zone 'UTC',
                       %s, now() at time zone 'UTC')
               ON CONFLICT (connector_id, event_key) DO NOTHING RETURNING id""",
            (connector.id, connector.company_id.id, event_key[:200], self.env.uid, self.env.uid),
        )
        return bool(self.env.cr.fetchone())

    @api.model
    def _release(self, connector, event_key):
        """Forget an event whose processing could not finish: the provider's next delivery of the
        same event is then processed, not refused as a replay."""
        self.env.cr.execute(
            "DELETE FROM ar_peppol_webhook_event WHERE connector_id = %s AND event_key = %s",
            (connector.id, event_key[:200]),
        )
