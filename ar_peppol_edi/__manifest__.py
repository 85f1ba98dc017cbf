{
    "name": "AR: Peppol BIS 3 over any access point",
    "summary": "Peppol BIS Billing 3.0 export validated with the official rules, participant lookup, access-point connectors, status tracking",
    "version": "19.0.1.0.0",
    "category": "Accounting/Accounting",
    "author": "ar_suite developers",
    "website": "https://github.com/ar-suite/ar_suite",
    "maintainers": ["ar-suite"],
    "development_status": "Beta",
    "license": "LGPL-3",
    "depends": ["account_edi_ubl_cii"],
    "external_dependencies": {"python": ["saxonche", "requests", "dnspython", "python-stdnum"]},
    "data": [
        "security/ir.model.access.csv",
    ],
}
