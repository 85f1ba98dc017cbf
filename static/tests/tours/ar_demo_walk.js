import { registry } from "@web/core/registry";

// The demo as a newcomer sees it (tests/test_suite_demo_walk.py, run by `make test` on a copy
// of `make run`'s demo database).

registry.category("web_tour.tours").add("ar_demo_walk_buyer_list", {
    steps: () => [
        {
            content: "The buyer's portal lists the invoices, each with its status",
            trigger: ".o_portal_my_doc_table tbody tr:nth-child(5) a[href*='/my/invoices/']",
        },
        {
            content: "Delivered invoices only: nothing is a proforma",
            trigger: "body:not(:contains(Proforma)):not(:contains(Pro forma))",
        },
    ],
});

registry.category("web_tour.tours").add("ar_demo_walk_buyer_invoice", {
    steps: () => [
        {
            content: "The open invoice offers Pay now",
            trigger: "a[data-bs-target='#pay_with']",
        },
        {
            content: "... its PDF",
            trigger: "a.o_download_btn[href*='report_type=pdf']",
        },
        {
            content: "... and its e-invoice (UBL)",
            trigger: "a.o_ar_download_ubl",
        },
    ],
});

registry.category("web_tour.tours").add("ar_demo_walk_deliveries", {
    steps: () => [
        {
            content: "The Invoice Deliveries list is filled",
            trigger: ".o_list_view .o_data_row:nth-child(10)",
        },
    ],
});

registry.category("web_tour.tours").add("ar_demo_walk_dashboard", {
    steps: () => [
        {
            content: "The dashboard shows the receivables",
            trigger: ".o_ar_suite_dashboard .o_stat_value:contains(€)",
        },
    ],
});
