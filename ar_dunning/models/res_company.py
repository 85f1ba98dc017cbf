from odoo import api, fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    ar_dunning_be_b2c_clause = fields.Boolean(
        string="Belgian Consumers: Damages Clause",
        help="Tick only when the terms accepted by your Belgian consumers contain a clause on damages and "
        "late-payment interest (art. XIX.4 Code of Economic Law). Without it, consumers owe no damages and only "
        "the legal interest rate.",
    )
    ar_dunning_be_b2c_clause_rate = fields.Float(
        string="Belgian Consumers: Contract Interest Rate (%)",
        digits=(5, 2),
        help="Yearly rate of the clause. The law caps it at the rate of the Law of 2 August 2002; 0 = that rate.",
    )
    ar_dunning_de_agreed_date = fields.Boolean(
        string="German Customers: Payment Date Agreed",
        help="Default for German customers: the payment date is agreed in the contract (§ 286(2) BGB), so default "
        "interest runs from the day after the due date. Unticked (the default): default starts on receipt of the "
        "first reminder, or 30 days after receipt of the invoice (§ 286(1) and (3) BGB). Each customer can "
        "override it.",
    )
    # Directive (EU) 2023/2225 (CCD2) replaced 2008/48/EC on 20 November 2026 and no longer leaves free, short credit
    # outside consumer-credit law; the national laws transposing it (German government draft of 3 September 2025,
    # § 491 BGB-RegE: free short-term deferrals of payment; Dutch implementation bill of 15 April 2025; Belgian
    # Book VII)
    # decide whether a free instalment plan for an overdue consumer debt is consumer credit. The product cannot know
    # which version applies to a company: off (the default), every private customer's plan waits for the accountant.
    ar_plan_consumer_confirmed = fields.Boolean(
        string="Private Customers' Payment Plans Confirmed at Once",
        help="Tick only after checking that in your country a payment plan free of interest and costs, ending "
        "within 3 months, is not consumer credit under the law transposing Directive (EU) 2023/2225. Unticked "
        "(the default): every plan a private customer proposes goes to your review.",
    )
    ar_dunning_nl_b2b_fee_rule_id = fields.Many2one(
        "ar.dunning.fee.rule",
        string="Dutch Business Customers: Agreed Cost Rule",
        help="Collection-cost rule agreed with Dutch business customers. Empty: the WIK scale (art. 6:96(5) BW).",
    )

    def _ar_dunning_create_default_policy(self):
        """Create the default three-level ladder for companies that have no dunning policy yet."""
        Policy = self.env["ar.dunning.policy"].sudo()  # sudo: set-up of configuration data at install/company creation
        ref = self.env.ref
        ladder = [
            ("level1", 3, False, False, False, False),
            ("level2", 17, True, True, False, False),
            ("level3", 31, True, True, True, True),
        ]
        names = self._ar_dunning_level_names()
        policies = Policy.browse()
        for company in self:
            if Policy.with_context(active_test=False).search_count([("company_id", "=", company.id)]):
                continue
            levels = []
            for seq, (key, offset, letter, charges, call, hold) in enumerate(ladder, start=1):
                levels.append(
                    (
                        0,
                        0,
                        {
                            "name": names[key],
                            "sequence": seq * 10,
                            "offset_days": offset,
                            "action_email": True,
                            "action_letter": letter,
                            "action_activity": call,
                            "action_credit_hold": hold,
                            "apply_interest": charges,
                            "apply_fees": charges,
                            "template_friendly_id": ref(f"ar_dunning.mail_template_{key}_friendly").id,
                            "template_neutral_id": ref(f"ar_dunning.mail_template_{key}_neutral").id,
                            "template_firm_id": ref(f"ar_dunning.mail_template_{key}_firm").id,
                        },
                    )
                )
            policy = Policy.create(
                {
                    "name": self.env._("Standard follow-up"),
                    "company_id": company.id,
                    "is_default": True,
                    "level_ids": levels,
                }
            )
            policy._ar_translate_names()
            policies |= policy
        return policies

    def _ar_dunning_level_names(self):
        env = self.env
        return {
            "level1": env._("Payment reminder"),
            "level2": env._("Second reminder"),
            "level3": env._("Final notice"),
            "policy": env._("Standard follow-up"),
        }

    @api.model
    def _ar_dunning_setup_all(self):
        self.search([("active", "=", True)])._ar_dunning_create_default_policy()
