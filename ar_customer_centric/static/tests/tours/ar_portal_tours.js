import { registry } from "@web/core/registry";

function payWithDemo(container) {
    return [
        {
            content: "Enter the demo card details",
            trigger: `${container} #customer_input`,
            run: "edit 4242",
        },
        {
            content: "Pay",
            trigger: `${container} button[name="o_payment_submit_button"]:not(:disabled)`,
            run: "click",
            expectUnloadPage: true,
        },
    ];
}

registry.category("web_tour.tours").add("ar_guest_pay_one_tour", {
    steps: () => [
        {
            content: "The payment dialog opens by itself from the e-mail link",
            trigger: "#pay_with.show .o_payment_form",
        },
        ...payWithDemo("#pay_with"),
        {
            content: "Back on the invoice, it is paid",
            trigger: "div[name='invoice_paid_badge']",
            timeout: 20000,
        },
    ],
});

registry.category("web_tour.tours").add("ar_guest_pay_all_tour", {
    steps: () => [
        {
            content: "All open invoices are listed",
            trigger: ".o_ar_pay_all_page .o_ar_pay_all_row:nth-child(2)",
        },
        {
            content: "Leave the second invoice out",
            trigger: ".o_ar_pay_all_row:nth-child(2) .o_ar_pay_all_check:checked",
            run: "click",
        },
        {
            content: "Update the selection",
            trigger: ".o_ar_pay_all_update",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "Only the first invoice is selected now",
            trigger: ".o_ar_pay_all_row:nth-child(2) .o_ar_pay_all_check:not(:checked)",
        },
        ...payWithDemo(".o_ar_pay_all_page"),
        {
            content: "Back on the pay-all page: the paid invoice left the list",
            trigger: ".o_ar_pay_all_page:not(:has(.o_ar_pay_all_row:nth-child(2)))",
            timeout: 20000,
        },
    ],
});

registry.category("web_tour.tours").add("ar_portal_dispute_tour", {
    steps: () => [
        {
            content: "Dispute the invoice",
            trigger: ".o_ar_dispute_button",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "Choose a reason",
            trigger: "select[name='reason']",
            run: "select wrong_amount",
        },
        {
            content: "Explain",
            trigger: "textarea[name='message']",
            run: "edit The agreed price is 90 EUR per day.",
        },
        {
            content: "Send",
            trigger: ".o_ar_dispute_submit",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The invoice page says the dispute was sent and shows its status",
            trigger: ".o_ar_dispute_sent",
        },
        {
            trigger: ".o_ar_dispute_badge",
        },
    ],
});

registry.category("web_tour.tours").add("ar_portal_autopay_mandate_tour", {
    steps: () => [
        {
            content: "Sign a SEPA Direct Debit mandate",
            trigger: ".o_ar_new_mandate",
            run: "click",
            expectUnloadPage: true,
        },
        {
            trigger: "input[name='account_holder']",
            run: "edit Buyer A NV",
        },
        {
            trigger: "input[name='iban']",
            run: "edit BE68 5390 0754 7034",
        },
        {
            content: "Choose the B2B scheme (its own EPC mandate text: no refund after the debit)",
            trigger: "input[name='scheme'][value='B2B']",
            run: "click",
        },
        {
            content: "Give consent",
            trigger: "input[name='consent']",
            run: "click",
        },
        {
            trigger: ".o_ar_mandate_sign",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "Autopay is on with the new mandate",
            trigger: ".o_ar_autopay_saved",
        },
        {
            trigger: "input[name='autopay_method'][value^='mandate-']:checked",
        },
    ],
});
