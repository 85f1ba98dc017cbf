{
    "name": "AR: Customer-centric billing and payment portal",
    "summary": "Per-customer invoice delivery, self-service portal, one-click and guest pay, disputes, autopay",
    "version": "19.0.1.0.0",
    "category": "Accounting/Accounting",
    "author": "ar_suite developers",
    "website": "https://github.com/ar-suite/ar_suite",
    "maintainers": ["ar-suite"],
    "development_status": "Beta",
    "license": "LGPL-3",
    "depends": ["account_payment", "account_qr_code_sepa"],
    "external_dependencies": {"python": ["qrcode", "sepaxml", "requests"]},
    "data": [
        "security/ir.model.access.csv",
    ],
}
