import { registry } from "@web/core/registry";

// A guest follows the reminder's pay-all link and promises a date for the overdue invoices
// (tests/test_suite_promise.py).

function inDays(days) {
    const date = new Date(Date.now() + days * 86400000);
    return date.toISOString().slice(0, 10);
}

registry.category("web_tour.tours").add("ar_promise_guest_tour", {
    steps: () => [
        {
            content: "The reminder's link shows the open invoices",
            trigger: ".o_ar_pay_all_page .o_ar_pay_all_row:nth-child(3)",
        },
        {
            content: "Cannot pay everything today: promise to pay by a date",
            trigger: "a.o_ar_promise_button",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "Both overdue invoices are selected; the invoice not yet due is not offered",
            trigger: ".o_ar_promise_page:not(:has(.o_ar_promise_row:nth-child(3))) .o_ar_promise_row:nth-child(2) .o_ar_promise_check:checked",
        },
        {
            content: "The first one is selected too",
            trigger: ".o_ar_promise_row:nth-child(1) .o_ar_promise_check:checked",
        },
        {
            content: "Choose a date within a week",
            trigger: "input[name='promise_date']",
            run(helpers) {
                // a date input takes its value as yyyy-mm-dd, whatever the browser's locale
                const input = helpers.anchor;
                input.value = inDays(7);
                input.dispatchEvent(new Event("change", { bubbles: true }));
            },
        },
        {
            content: "Add a note",
            trigger: "textarea[name='note']",
            run: "edit Our own customer pays us next week.",
        },
        {
            content: "Send the promise",
            trigger: "button.o_ar_promise_submit",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "Back on the link's page: the promise is confirmed at once",
            trigger: ".o_ar_pay_all_page .o_ar_promise_accepted",
        },
    ],
});

// A guest opens Odoo's invoice e-mail link (the invoice's access token, no account) and promises a date
// for that invoice (tests/test_suite_promise.py).
registry.category("web_tour.tours").add("ar_promise_invoice_link_tour", {
    steps: () => [
        {
            content: "The invoice's page offers to promise a payment date and to pay in instalments",
            trigger: "a.o_ar_plan_button",
        },
        {
            content: "Promise a payment date",
            trigger: "a.o_ar_promise_button",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The form is for this invoice only",
            trigger: ".o_ar_promise_page:not(:has(.o_ar_promise_row:nth-child(2))):not(:has(.o_ar_promise_check)) .o_ar_promise_row",
        },
        {
            content: "Choose a date within ten days",
            trigger: "input[name='promise_date']",
            run(helpers) {
                // a date input takes its value as yyyy-mm-dd, whatever the browser's locale
                const input = helpers.anchor;
                input.value = inDays(10);
                input.dispatchEvent(new Event("change", { bubbles: true }));
            },
        },
        {
            content: "Send the promise",
            trigger: "button.o_ar_promise_submit",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "Back on the invoice's page: the promise is confirmed at once",
            trigger: ".o_ar_promise_accepted",
        },
        {
            content: "No button to promise again",
            trigger: "body:not(:has(a.o_ar_promise_button))",
        },
    ],
});
