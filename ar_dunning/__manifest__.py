{
    "name": "AR: Dunning and follow-up",
    "summary": "Multi-level follow-up run in batches, nl/fr/de templates, tone from payment history, statutory interest and fees, KPIs",
    "version": "19.0.1.0.0",
    "category": "Accounting/Accounting",
    "author": "ar_suite developers",
    "website": "https://github.com/ar-suite/ar_suite",
    "maintainers": ["ar-suite"],
    "development_status": "Beta",
    "license": "LGPL-3",
    "depends": ["account", "mail"],
    "data": [
        "security/ir.model.access.csv",
    ],
}
