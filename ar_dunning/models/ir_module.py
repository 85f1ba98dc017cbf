from odoo import models


class IrModuleModule(models.Model):
    _inherit = "ir.module.module"

    def _load_module_terms(self, modules, langs, overwrite=False):
        # EXTENDS 'base': a language activated after the policies were created also gets the
        # default policy and level names (else subject lines and letter headings fall back to English)
        res = super()._load_module_terms(modules, langs, overwrite=overwrite)
        if "ar_dunning" in modules and "ar.dunning.policy" in self.env:
            # sudo: every company's configuration; policies are a handful of configuration records
            policies = self.env["ar.dunning.policy"].sudo().with_context(active_test=False).search([])  # pylint: disable=no-search-all
            policies._ar_fill_default_names([lang for lang in langs if lang != "en_US"])
        return res
