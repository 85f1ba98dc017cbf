from lxml import etree

from odoo import models

COMPILE_CACHE_KEY = "ar_dunning_qweb_compiled"


class IrQweb(models.AbstractModel):
    _inherit = "ir.qweb"

    def _compile(self, template):
        # EXTENDS 'base': Odoo compiles a mail template's body again for every record it renders
        # (an inline template has no view id to cache on), about 30 ms a reminder. A dunning batch
        # renders one body per template and language for hundreds of customers: while it runs, the
        # context carries a dict in which an inline template is compiled once per source and
        # compile options (the same reuse Odoo's own cache gives a stored view).
        cache = self.env.context.get(COMPILE_CACHE_KEY)
        if cache is None or not isinstance(template, etree._Element):
            return super()._compile(template)
        options = (*self._get_template_cache_keys(), "raise_on_forbidden_code_for_model")
        key = (etree.tostring(template), tuple(str(self.env.context.get(name) or "") for name in options))
        if key not in cache:
            cache[key] = super()._compile(template)
        return cache[key]
