import { registry } from "@web/core/registry";

// Payment plans from the buyer's side (tests/test_suite_plan.py): a guest follows the reminder's
// pay-all link, proposes three monthly instalments and pays the first; a logged-in buyer finds a
// plan with a missed instalment.

function today() {
    return new Date().toISOString().slice(0, 10);
}

registry.category("web_tour.tours").add("ar_plan_guest_tour", {
    steps: () => [
        {
            content: "The reminder's link shows the open invoices",
            trigger: ".o_ar_pay_all_page .o_ar_pay_all_row:nth-child(3)",
        },
        {
            content: "Cannot pay everything at once: pay in instalments",
            trigger: "a.o_ar_plan_button",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The two overdue invoices are selected, the one not yet due is offered unselected",
            trigger: ".o_ar_plan_form_page .o_ar_plan_row:nth-child(3) .o_ar_plan_check:not(:checked)",
        },
        {
            trigger: ".o_ar_plan_row:nth-child(1) .o_ar_plan_check:checked",
        },
        {
            trigger: ".o_ar_plan_row:nth-child(2) .o_ar_plan_check:checked",
        },
        {
            content: "The policy's limits are shown",
            trigger: ".o_ar_plan_limits",
        },
        {
            content: "Three instalments",
            trigger: "input[name='instalment_count']",
            run: "edit 3",
        },
        {
            content: "Every month",
            trigger: "select[name='frequency']",
            run: "select monthly",
        },
        {
            content: "The first one today",
            trigger: "input[name='first_date']",
            run(helpers) {
                // a date input takes its value as yyyy-mm-dd, whatever the browser's locale
                const input = helpers.anchor;
                input.value = today();
                input.dispatchEvent(new Event("change", { bubbles: true }));
            },
        },
        {
            content: "Show the schedule",
            trigger: "button.o_ar_plan_preview_button",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "Three instalments, within the policy: confirmed at once",
            trigger: ".o_ar_plan_preview:has(.o_ar_plan_schedule_row:nth-child(3)) .o_ar_plan_decision_accept",
        },
        {
            content: "Add a note",
            trigger: "textarea[name='note']",
            run: "edit Our season starts in March.",
        },
        {
            content: "Propose the plan",
            trigger: "button.o_ar_plan_submit",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The plan is confirmed and its schedule shown",
            trigger: ".o_ar_plan_page .o_ar_plan_accepted",
        },
        {
            trigger: ".o_ar_plan_page .o_ar_plan_instalment_row:nth-child(3)",
        },
        {
            content: "Pay the first instalment: enter the demo card details",
            trigger: ".o_ar_plan_pay #customer_input",
            run: "edit 4242",
        },
        {
            content: "Pay",
            trigger: `.o_ar_plan_pay button[name="o_payment_submit_button"]:not(:disabled)`,
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "Back on the plan: the first instalment is paid, the second is next",
            trigger: ".o_ar_plan_page .o_ar_plan_instalment_row:nth-child(1).o_ar_plan_instalment_paid",
            timeout: 20000,
        },
        {
            trigger: ".o_ar_plan_instalment_row:nth-child(2).table-active",
        },
    ],
});

registry.category("web_tour.tours").add("ar_plan_missed_tour", {
    steps: () => [
        {
            content: "The portal home counts the payment plans",
            trigger: "a[href='/my/plans']",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The plan is late",
            trigger: ".o_ar_plan_list_row .o_ar_plan_state_late",
        },
        {
            content: "Open it",
            trigger: ".o_ar_plan_list_row a[href^='/my/plans/']",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The buyer is told the instalment is past due and can pay it in one click",
            trigger: ".o_ar_plan_page .o_ar_plan_late",
        },
        {
            trigger: ".o_ar_plan_pay button[name='o_payment_submit_button']",
        },
        {
            content: "The breadcrumbs lead back to the plans",
            trigger: ".o_ar_plan_breadcrumb a[href='/my/plans']",
        },
    ],
});
