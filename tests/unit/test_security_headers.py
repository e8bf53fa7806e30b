"""The Content-Security-Policy lets a pledge page's "pay now" lead to Mollie's checkout, and no more."""

from funding.payments.mollie import CHECKOUT_ORIGIN, checkout_origin
from funding.web.security import CONTENT_SECURITY_POLICY, security_headers


def form_action(headers: dict[str, str]) -> list[str]:
    directives = dict(d.strip().split(" ", 1) for d in headers["content-security-policy"].split(";"))
    return directives["form-action"].split()


def test_a_pledge_page_may_send_its_pay_form_on_to_the_checkout_and_no_other_page_may():
    origins = [checkout_origin("")]
    assert form_action(security_headers("/pledges/abc", https=True, payment_origins=origins)) == [
        "'self'",
        CHECKOUT_ORIGIN,
    ]
    assert form_action(security_headers("/pledges/abc/pay", https=True, payment_origins=origins))[1:] == origins
    for path in ("/", "/ledger", "/rounds/bijdragen-2027/pledge"):
        headers = security_headers(path, https=True, payment_origins=origins)
        assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY and form_action(headers) == ["'self'"]


def test_the_checkout_is_mollies_own_or_where_the_stand_in_serves_its_api():
    assert checkout_origin("") == "https://www.mollie.com"
    assert (
        checkout_origin("http://127.0.0.1:8765")
        == checkout_origin("http://127.0.0.1:8765/v2/")
        == ("http://127.0.0.1:8765")
    )
