{
    "name": "AR Suite: get paid sooner",
    "summary": "Customer-centric invoicing, Peppol over any access point and dunning, as one product",
    "version": "19.0.1.0.0",
    "category": "Accounting/Accounting",
    "author": "ar_suite developers",
    "website": "https://github.com/ar-suite/ar_suite",
    "maintainers": ["ar-suite"],
    "development_status": "Beta",
    "license": "LGPL-3",
    "depends": ["ar_customer_centric", "ar_peppol_edi", "ar_dunning"],
    "data": [
        "security/ir.model.access.csv",
        "security/ar_suite_security.xml",
        "views/ar_suite_receivable_report_views.xml",
        "views/ar_suite_dashboard_views.xml",
        "views/ar_dunning_plan_views.xml",
        "views/res_config_settings_views.xml",
        "views/ar_dunning_report_templates.xml",
        "views/portal_promise_templates.xml",
        "views/portal_plan_templates.xml",
        "views/ar_suite_menus.xml",
    ],
    "demo": [
        "demo/ar_suite_demo.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "ar_suite/static/tests/tours/*.js",
        ],
    },
    "application": True,
}
