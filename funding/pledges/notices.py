"""The mail a pledger gets: the confirmation with the private link, the link again on request,
and word that a round missed its target. Plain text in the pledger's language; sent after the
change is committed, and a mail that cannot go out is logged, never undoing the pledge."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from funding.i18n import _, format_day, use_locale
from funding.mail import Mail, Mailer, MailError
from funding.pledges.tables import PaymentPreference

if TYPE_CHECKING:
    from funding.pledges.service import PledgeRecord, Round

log = logging.getLogger(__name__)


class PledgeNotices:
    def __init__(self, mailer: Mailer, *, base_url: str, bank_name: str, bank_iban: str, online: bool = False) -> None:
        self.mailer = mailer
        self.base_url = base_url.rstrip("/")
        self.bank_name, self.bank_iban = bank_name, bank_iban
        self.online = online
        """Paying online is on (Mollie configured): a pledger who prefers it is told so."""

    def link(self, pledge: PledgeRecord) -> str:
        return f"{self.base_url}/pledges/{pledge.token}"

    async def confirmed(self, pledge: PledgeRecord, fund: Round) -> None:
        with use_locale(pledge.locale):
            if pledge.is_in_kind:
                how = _("We will contact you about when and how your contribution in kind is given.")
            elif fund.is_conditional:
                how = _(
                    "This round is all-or-nothing: your pledge becomes due only if the round meets its target "
                    "by %(day)s. We will let you know either way."
                ) % {"day": format_day(fund.closes_on)}
            else:
                transfer = {
                    "amount": pledge.amount.format(pledge.locale),
                    "iban": self.bank_iban,
                    "name": self.bank_name,
                    "reference": pledge.formatted_reference,
                }
                if self.online and pledge.payment_preference is PaymentPreference.online:
                    how = (
                        _(
                            "Pay %(amount)s online on your pledge's page (link below), or transfer it to %(iban)s "
                            "(%(name)s), quoting reference %(reference)s."
                        )
                        % transfer
                    )
                else:
                    how = _("Please transfer %(amount)s to %(iban)s (%(name)s), quoting reference %(reference)s.") % (
                        transfer
                    )
            await self._send(
                pledge,
                _("Your pledge to %(round)s") % {"round": fund.title(pledge.locale)},
                [
                    _("Thank you: %(organisation)s pledged %(amount)s to %(round)s.")
                    % {
                        "organisation": pledge.organisation_name,
                        "amount": pledge.amount.format(pledge.locale),
                        "round": fund.title(pledge.locale),
                    },
                    how,
                    _("Your pledge's own page, where you can follow, change or cancel it:"),
                    self.link(pledge),
                    _("Payment reference: %(reference)s") % {"reference": pledge.formatted_reference},
                ],
            )

    async def again(self, pledge: PledgeRecord, fund: Round) -> None:
        with use_locale(pledge.locale):
            await self._send(
                pledge,
                _("The link to your pledge to %(round)s") % {"round": fund.title(pledge.locale)},
                [
                    _("Someone asked us to send the link to the pledge of %(organisation)s again.")
                    % {"organisation": pledge.organisation_name},
                    self.link(pledge),
                    _("If that was not you, you need not do anything."),
                ],
            )

    async def reminder(self, pledge: PledgeRecord, fund: Round) -> None:
        """Staff remind a pledger of what is still open."""
        with use_locale(pledge.locale):
            facts = {
                "organisation": pledge.organisation_name,
                "amount": pledge.amount.format(pledge.locale),
                "open": pledge.open_amount.format(pledge.locale),
                "round": fund.title(pledge.locale),
                "iban": self.bank_iban,
                "name": self.bank_name,
                "reference": pledge.formatted_reference,
            }
            await self._send(
                pledge,
                _("A reminder: your pledge to %(round)s") % facts,
                [
                    _("%(organisation)s pledged %(amount)s to %(round)s; %(open)s of it is still open.") % facts,
                    _("Please transfer it to %(iban)s (%(name)s), quoting reference %(reference)s.") % facts,
                    _("Your pledge's own page:"),
                    self.link(pledge),
                    _("If you paid in the last few days, thank you: our payments may have crossed."),
                ],
            )

    async def released(self, pledge: PledgeRecord, fund: Round) -> None:
        with use_locale(pledge.locale):
            await self._send(
                pledge,
                _("%(round)s did not meet its target") % {"round": fund.title(pledge.locale)},
                [
                    _(
                        "%(round)s closed without meeting its target of %(target)s, so the pledge of "
                        "%(organisation)s is released: you owe nothing."
                    )
                    % {
                        "round": fund.title(pledge.locale),
                        "target": fund.target.format(pledge.locale),
                        "organisation": pledge.organisation_name,
                    },
                    _("Thank you for your support."),
                    self.link(pledge),
                ],
            )

    async def _send(self, pledge: PledgeRecord, subject: str, paragraphs: list[str]) -> None:
        greeting = _("Dear %(name)s,") % {"name": pledge.contact_name}
        text = "\n\n".join([greeting, *paragraphs]) + "\n"
        try:
            await self.mailer.send(Mail(to=pledge.contact_email, subject=subject, text=text))
        except MailError as error:
            log.error("mail about pledge %s could not be sent: %s", pledge.id, error)
