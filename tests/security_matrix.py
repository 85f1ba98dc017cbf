"""The security matrix: who may call each route of the suite, and what they get.

``test_suite_security.py`` lists every route that ar_suite, ar_customer_centric, ar_peppol_edi
and ar_dunning register or override (from Odoo's routing map) and FAILS when one has no entry
here. To add a route, add ``MATRIX["<the rule exactly as in @http.route>"] = [Case(...), ...]``:

``Case(url, method="GET", data=None, expect=...)``

- ``url`` and the values of ``data`` may use the placeholders of ``Fixtures.values(actor)``:
  ``{invoice}`` buyer A's open invoice, ``{statement}``, ``{mandate}``, ``{connector}``,
  ``{plan}`` buyer A's running payment plan, ``{plan_invoice}`` A's overdue invoice for the plan cases,
  ``{access_token}`` (invoice token), ``{link_promise_invoice}`` / ``{link_promise_token}`` and
  ``{link_plan_invoice}`` / ``{link_plan_token}`` (A's overdue invoices promised and planned by their own
  link, with their tokens), ``{statement_token}``, ``{pay_all}`` (pay-all token),
  ``{webhook_token}``. Each actor gets the value it would hold (its own, a forged one, ...).
- ``method``: ``GET``, ``POST`` (form, a valid CSRF token is added) or ``JSON`` (JSON-RPC).
- ``expect``: the status for each actor below (``user(...)`` and ``link(...)`` fill the usual
  ones). ``None`` means "not applicable" and needs the reason in ``why``. JSON-RPC answers 200
  either way: write ``OK`` or ``ERROR``.

Actors, always against buyer A's records:

- ``owner``   buyer A's portal user, with A's valid tokens;
- ``other``   buyer B's portal user, with B's own valid tokens (cross-customer);
- ``guest``   not logged in, no token;
- ``token``   not logged in, A's valid token (a forwarded link);
- ``forged``  not logged in, a made-up token;
- ``expired`` not logged in, a token past its expiry;
- ``revoked`` not logged in, a token revoked since it was sent.

Whatever the status, the body never holds the data of a customer the actor is not entitled
to (owner and token: A only; other: B only; the rest: none). Every route that accepts a form
POST must refuse one without a CSRF token (400) unless ``csrf_exempt`` says why.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta

OK, ERROR = "ok", "error"
ACTORS = ("other", "guest", "forged", "expired", "revoked", "token", "owner")  # owner last: it may change state


def user(owner=200, other=200):
    """A logged-in page: guests (with whatever token) are sent to the login page."""
    return {"owner": owner, "other": other, "guest": 303, "token": 303, "forged": 303, "expired": 303, "revoked": 303}


def link(owner=200, token=200, *, other=404, expired=404, revoked=404, refused=404):
    """A page opened by a signed link or an access token."""
    return {
        "owner": owner,
        "other": other,
        "guest": refused,
        "token": token,
        "forged": refused,
        "expired": expired,
        "revoked": revoked,
    }


@dataclass
class Case:
    url: str
    method: str = "GET"
    data: dict = field(default_factory=dict)
    expect: dict = field(default_factory=user)
    why: str = ""


NO_EXPIRY = "Odoo's document access tokens do not expire (revocation = a new token)"
# a payment date the policy confirms at once
PROMISE_DATE = (date.today() + timedelta(days=5)).isoformat()
# the first instalment of a plan the matrix proposes
PLAN_FIRST_DATE = date.today().isoformat()

MATRIX = {
    # --- invoices (ar_customer_centric/controllers/portal_invoices.py) ---
    "/my/invoices": [Case("/my/invoices"), Case("/my/invoices?search=INV&search_in=all&filterby=ar_open")],
    "/my/invoices/page/<int:page>": [Case("/my/invoices/page/1")],
    "/my/invoices/<int:invoice_id>/ubl": [
        Case(
            "/my/invoices/{invoice}/ubl?access_token={access_token}",
            expect=link(expired=None),
            why=NO_EXPIRY,
        )
    ],
    "/invoice/transaction/<int:invoice_id>": [
        Case(
            "/invoice/transaction/{invoice}",
            method="JSON",
            data={"access_token": "{access_token}", "amount": 1.0},
            expect=link(owner=OK, token=OK, other=ERROR, expired=None, revoked=ERROR, refused=ERROR),
            why=NO_EXPIRY,
        )
    ],
    # --- pay-all (portal_pay_all.py) ---
    "/my/invoices/pay-all": [Case("/my/invoices/pay-all", expect=user(owner=303, other=303))],
    "/my/pay-all/<string:token>": [Case("/my/pay-all/{pay_all}", expect=link(other=200))],
    "/my/pay-all/<string:token>/transaction/<string:selection>": [
        Case(
            "/my/pay-all/{pay_all}/transaction/{invoice}",
            method="JSON",
            expect=link(owner=OK, token=OK, other=ERROR, expired=ERROR, revoked=ERROR, refused=ERROR),
        )
    ],
    "/my/pay-all/<string:token>/invoice/<int:invoice_id>": [
        Case("/my/pay-all/{pay_all}/invoice/{invoice}?report_type=html", expect=link()),
        Case("/my/pay-all/{pay_all}/invoice/{invoice}?dispute=1", expect=link(owner=303, token=303)),
    ],
    # --- promise to pay (ar_suite/controllers/portal_promise.py); the guest route comes first: its
    # token holder makes the promise on buyer A's overdue invoice (303), after which the owner finds
    # the invoice promised already (200 with the error), by the link and in the portal ---
    "/my/pay-all/<string:token>/promise": [
        Case("/my/pay-all/{pay_all}/promise", expect=link(other=200)),
        Case(
            "/my/pay-all/{pay_all}/promise",
            method="POST",
            data={"invoice_ids": "{invoice}", "promise_date": PROMISE_DATE, "note": "Matrix promise"},
            # another customer's link with A's invoice id: refused (404), nothing created
            expect=link(owner=200, token=303),
        ),
    ],
    "/my/invoices/promise": [
        Case("/my/invoices/promise"),
        Case("/my/invoices/promise?invoice_ids={invoice}", expect=user(owner=200, other=404)),
        Case(
            "/my/invoices/promise",
            method="POST",
            data={"invoice_ids": "{invoice}", "promise_date": PROMISE_DATE, "note": "Matrix promise"},
            expect=user(owner=200, other=404),
        ),
    ],
    # --- payment plans (ar_suite/controllers/portal_plan.py); {plan} is buyer A's running plan, on
    # another invoice than {plan_invoice}. As for the promise, the guest route comes first: its token
    # holder proposes a plan for {plan_invoice} (303), after which the owner finds it planned already
    # (200 with the error), by the link and in the portal ---
    "/my/pay-all/<string:token>/plan": [
        Case("/my/pay-all/{pay_all}/plan", expect=link(other=200)),
        Case("/my/pay-all/{pay_all}/plan?invoice_ids={plan_invoice}&instalment_count=3", expect=link()),
        Case(
            "/my/pay-all/{pay_all}/plan",
            method="POST",
            data={
                "invoice_ids": "{plan_invoice}",
                "instalment_count": "3",
                "frequency": "monthly",
                "first_date": PLAN_FIRST_DATE,
                "note": "Matrix plan",
            },
            # another customer's link with A's invoice id: refused (404), nothing created
            expect=link(owner=200, token=303),
        ),
    ],
    "/my/invoices/plan": [
        Case("/my/invoices/plan"),
        Case("/my/invoices/plan?invoice_ids={plan_invoice}", expect=user(owner=200, other=404)),
        Case(
            "/my/invoices/plan",
            method="POST",
            data={
                "invoice_ids": "{plan_invoice}",
                "instalment_count": "3",
                "frequency": "monthly",
                "first_date": PLAN_FIRST_DATE,
                "note": "Matrix plan",
            },
            expect=user(owner=200, other=404),
        ),
    ],
    # --- the invoice's own link (Odoo's invoice e-mail): promise or plan that one invoice by its access token
    # (portal_promise.py, portal_plan.py). The token holder promises / plans it (303), after which the owner,
    # who acts by record rules, finds it promised / planned already (200 with the error); another customer's
    # user with their own invoice's token gets 404 ---
    "/my/invoices/<int:invoice_id>/promise": [
        Case(
            "/my/invoices/{link_promise_invoice}/promise?access_token={link_promise_token}",
            expect=link(expired=None),
            why=NO_EXPIRY,
        ),
        Case(
            "/my/invoices/{link_promise_invoice}/promise",
            method="POST",
            data={
                "access_token": "{link_promise_token}",
                "invoice_ids": "{invoice}",  # another invoice of A: ignored, the link's invoice is promised
                "promise_date": PROMISE_DATE,
                "note": "Matrix promise",
            },
            expect=link(owner=200, token=303, expired=None),
            why=NO_EXPIRY,
        ),
    ],
    "/my/invoices/<int:invoice_id>/plan": [
        Case(
            "/my/invoices/{link_plan_invoice}/plan?access_token={link_plan_token}&instalment_count=3",
            expect=link(expired=None),
            why=NO_EXPIRY,
        ),
        Case(
            "/my/invoices/{link_plan_invoice}/plan",
            method="POST",
            data={
                "access_token": "{link_plan_token}",
                "instalment_count": "3",
                "frequency": "monthly",
                "first_date": PLAN_FIRST_DATE,
                "note": "Matrix plan",
            },
            expect=link(owner=200, token=303, expired=None),
            why=NO_EXPIRY,
        ),
    ],
    "/my/plans": [Case("/my/plans")],
    "/my/plans/<int:plan_id>": [Case("/my/plans/{plan}", expect=user(owner=200, other=404))],
    "/my/plans/<int:plan_id>/transaction": [
        Case(
            "/my/plans/{plan}/transaction",
            method="JSON",
            # a JSON-RPC route for logged-in users: without a session, an error (no redirect)
            expect={
                "owner": OK,
                "other": ERROR,
                "guest": ERROR,
                "token": ERROR,
                "forged": ERROR,
                "expired": ERROR,
                "revoked": ERROR,
            },
        )
    ],
    "/my/pay-all/<string:token>/plans/<int:plan_id>": [Case("/my/pay-all/{pay_all}/plans/{plan}", expect=link())],
    "/my/pay-all/<string:token>/plans/<int:plan_id>/transaction": [
        Case(
            "/my/pay-all/{pay_all}/plans/{plan}/transaction",
            method="JSON",
            expect=link(owner=OK, token=OK, other=ERROR, expired=ERROR, revoked=ERROR, refused=ERROR),
        )
    ],
    # --- disputes (portal_disputes.py) ---
    "/my/invoices/<int:invoice_id>/dispute": [
        Case("/my/invoices/{invoice}/dispute?access_token={access_token}", expect=link(expired=None), why=NO_EXPIRY),
        Case(
            "/my/invoices/{invoice}/dispute?pay_all_token={pay_all}",
            expect=link(),
        ),
        Case(
            "/my/invoices/{invoice}/dispute",
            method="POST",
            data={"access_token": "{access_token}", "reason": "other", "message": "Matrix dispute"},
            # the token holder disputes (303 to the invoice); the owner then finds it disputed (303)
            expect=link(owner=303, token=303, expired=None),
            why=NO_EXPIRY,
        ),
    ],
    "/my/disputes": [Case("/my/disputes")],
    # --- payments, statements (portal_payments.py, portal_statements.py) ---
    "/my/payments": [Case("/my/payments")],
    "/my/payments/page/<int:page>": [Case("/my/payments/page/1")],
    "/my/statements": [Case("/my/statements")],
    "/my/statements/<int:statement_id>": [
        Case(
            "/my/statements/{statement}?report_type=html&access_token={statement_token}",
            expect=link(expired=None),
            why=NO_EXPIRY,
        )
    ],
    # --- autopay and mandates (portal_autopay.py) ---
    "/my/autopay": [
        Case("/my/autopay"),
        Case(
            "/my/autopay",
            method="POST",
            data={"autopay_method": "mandate-{mandate}"},
            expect=user(owner=303, other=404),
        ),
    ],
    "/my/autopay/mandate": [
        Case("/my/autopay/mandate"),
        Case(
            "/my/autopay/mandate",
            method="POST",
            data={"account_holder": "Matrix", "iban": "BE68539007547034", "scheme": "CORE"},  # no consent
            expect=user(owner=200, other=200),
        ),
    ],
    "/my/autopay/mandate/<int:mandate_id>/revoke": [
        Case("/my/autopay/mandate/{mandate}/revoke", method="POST", expect=user(owner=303, other=404))
    ],
    # --- preferences (portal_preferences.py) ---
    "/my/preferences": [
        Case("/my/preferences"),
        Case("/my/preferences", method="POST", data={"ar_email_pdf_only": "1"}, expect=user(owner=303, other=303)),
    ],
    # --- cXML StatusUpdateRequest from the buyer's network (ar_customer_centric/controllers/cxml.py) ---
    "/ar/cxml/status/<int:partner_id>/<string:token>": [
        Case(
            "/ar/cxml/status/{invoice}/not-the-signed-token",
            method="RAW",
            # whoever calls it, a wrong signed token is refused (403, cXML Status) and shows nothing
            expect={
                "owner": 403,
                "other": 403,
                "guest": 403,
                "token": 403,
                "forged": 403,
                "expired": 403,
                "revoked": 403,
            },
            why="called by the procurement network with the customer's signed URL; the valid-token path "
            "is tested in ar_customer_centric's cXML status-update tests",
        )
    ],
    # --- Peppol access point webhook (ar_peppol_edi/controllers/webhook.py) ---
    "/ar_peppol_edi/webhook/<int:connector_id>/<string:token>": [
        Case(
            "/ar_peppol_edi/webhook/{connector}/{webhook_token}",
            method="RAW",
            # a valid URL token with a body "{}" that is no Storecove event: 400 (Storecove signs
            # nothing, the URL token and a WebhookInstance body are all there is to check)
            expect={
                "owner": None,
                "other": 404,
                "guest": 404,
                "token": 400,
                "forged": 404,
                "expired": None,
                "revoked": 404,
            },
            why="called by the access point, not a buyer (signed events: ar_peppol_edi tests); "
            "webhook URL tokens do not expire, they are rotated",
        )
    ],
}

# Routes that accept a form POST without Odoo's CSRF token, and why.
CSRF_EXEMPT = {
    "/ar/cxml/status/<int:partner_id>/<string:token>": "server-to-server call from the buyer's procurement "
    "network, authenticated by the customer's HMAC-signed URL token",
    "/ar_peppol_edi/webhook/<int:connector_id>/<string:token>": "server-to-server call authenticated by the "
    "URL token and, for Billit, the HMAC signature of the body (Storecove signs nothing)",
}
