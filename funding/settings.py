"""Settings, read once from the environment (never from files in the repository)."""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
"""The checkout: templates/, migrations/ and static/ live beside the package."""

DEFAULT_DATABASE_URL = "sqlite:///funding.db"
OFF = ("off", "0", "false", "no")
DEFAULT_LOG_KEY_FILE = "funding-log.key"


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    """`sqlite:///path` (embedded default) or `postgresql://…` (production)."""
    database_owner_url: str = field(default="", repr=False)
    """The role that owns the tables (PostgreSQL), used only to migrate; empty: `database_url`."""
    secret_key: str = field(default="", repr=False)
    """Signs sessions and CSRF tokens; shared by every app process."""
    base_url: str = "http://127.0.0.1:8000"
    """Public URL, used in webhook and redirect URLs."""
    mollie_api_key: str = field(default="", repr=False)
    mollie_api_endpoint: str = ""
    """Empty means Mollie's own; the local stand-in's URL in demo and tests."""
    smtp_url: str = field(default="", repr=False)
    """`smtp://[user:password@]host[:port][?starttls=1]` or `smtps://…`; unset: mail goes to the outbox folder."""
    outbox_dir: str = "outbox"
    """Where mail is written as `.eml` files while no `smtp_url` is set."""
    mail_from: str = "funding <noreply@localhost>"
    """The From header of every message the app sends."""
    redis_url: str = field(default="", repr=False)
    """Shared state between app processes (the rate limits); unset: each process counts alone."""
    redis_namespace: str = "funding"
    """Prefix of this deployment's Redis keys, so several can share one Redis."""
    rate_limit_per_minute: int = 20
    """Unsafe requests (POST, PUT, PATCH, DELETE) one client may make per minute."""
    staff_api_token: str = field(default="", repr=False)
    """Bearer token for the staff JSON API; unset disables that API."""
    database_pool_size: int = 10
    """Connections per app process on PostgreSQL; 0 opens one per query (tests do)."""
    response_cache: bool = True
    """Serve public pages from the response cache; off renders every request (the benchmark)."""
    response_cache_bytes: int = 32 * 2**20
    """The most the response cache holds per process (pages and keys), least recently used out first."""
    round_closing_interval: int = 0
    """Seconds between the app's checks for rounds past their close date; 0: never (then
    `funding rounds close` does it). `from_env` makes it hourly unless FUNDING_CLOSE_ROUNDS_EVERY says."""
    payment_reconcile_interval: int = 0
    """Seconds between the app's own reconciles of Mollie payments (webhooks get lost); 0: never
    (then `funding payments reconcile` does it). `from_env` makes it every 15 minutes unless
    FUNDING_RECONCILE_EVERY says."""
    log_signing_key: str = field(default="", repr=False)
    """The checkpoint key (`PRIVATE+KEY+<name>+<id>+<seed>`, Go's note format) or the path of a
    file holding it; unset: the key in `log_key_file`, made there the first time (a demo's)."""
    log_key_file: str = field(default_factory=lambda: os.environ.get("FUNDING_LOG_KEY_FILE") or DEFAULT_LOG_KEY_FILE)
    """Where the app keeps a key of its own while no `log_signing_key` is set (read from the
    environment even when the settings are built by hand, so no test writes one into the tree)."""
    log_origin: str = ""
    """The log's name in its checkpoints (and the key's name); empty: `base_url` without its scheme."""
    witnesses: tuple[str, ...] = ()
    """The verifier keys (`<name>+<id>+<base64>`, type 0x04) of the witnesses whose cosignatures
    of our checkpoints the site accepts and publishes (FUNDING_WITNESSES, comma-separated)."""
    checkpoint_interval: int = 0
    """Seconds between the app's checks whether the tree grew, issuing a checkpoint when it did;
    0: never (then `funding checkpoint` does it). `from_env` makes it hourly unless
    FUNDING_CHECKPOINT_EVERY says."""
    max_pledge_euros: int = 1_000_000
    """The most one pledge may be; larger commitments are recorded by staff in parts, or configured."""
    bank_name: str = "Stichting Kennisnetwerk (demo)"
    bank_iban: str = "NL91ABNA0417164300"
    """The programme's bank account, shown to pledgers who pay by transfer (the default is an example)."""
    bank_bic: str = "ABNANL2A"
    seller_name: str = "Stichting Kennisnetwerk (demo)"
    """The legal name invoices are issued in (the defaults are examples, for the demo)."""
    seller_street: str = "Lange Voorhout 1"
    seller_postcode: str = "2514 EA"
    seller_city: str = "Den Haag"
    seller_kvk: str = "12345678"
    """The seller's KvK number: its legal registration and Peppol address (scheme 0106) on e-invoices."""
    seller_oin: str = ""
    """Set instead of the KvK number's role when the programme is run by a public body (scheme 0190)."""
    seller_vat: str = ""
    """A VAT number, if the programme has one (contributions are outside the scope of VAT)."""
    seller_email: str = "financien@kennisnetwerk.example"
    invoice_payment_days: int = 30
    vat_exemption_nl: str = "Bijdrage buiten de reikwijdte van de btw: geen vergoeding voor een prestatie"
    vat_exemption_en: str = "Contribution outside the scope of VAT: no consideration for a supply"
    peppol_outbox_dir: str = ""
    """Where the outbox access point leaves e-invoices for a Peppol access point; empty: `<outbox>/peppol`."""
    receipts_dir: str = "receipts"
    """Where expense receipts are stored under their SHA-256 (never under `static/`: served only by the app)."""
    receipt_max_bytes: int = 10 * 2**20
    """The largest receipt an upload may be (10 MiB)."""
    correction_threshold_euros: int = 10_000
    """A reversal of more than this needs a second person besides the one who asks for it."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        secret_key = environ.get("FUNDING_SECRET_KEY", "")
        if not secret_key:
            # Fine for one demo process; several processes must share a configured key.
            log.warning("FUNDING_SECRET_KEY is not set: using a random key for this process only")
            secret_key = secrets.token_urlsafe(32)
        if not environ.get("FUNDING_SELLER_NAME"):
            log.warning("FUNDING_SELLER_NAME is not set: invoices name the demo seller (%s)", cls.seller_name)
        return cls(
            database_url=environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
            database_owner_url=environ.get("DATABASE_OWNER_URL", ""),
            secret_key=secret_key,
            base_url=(environ.get("FUNDING_BASE_URL") or cls.base_url).rstrip("/"),
            mollie_api_key=environ.get("MOLLIE_API_KEY", ""),
            mollie_api_endpoint=environ.get("MOLLIE_API_ENDPOINT", ""),
            smtp_url=environ.get("SMTP_URL", ""),
            outbox_dir=environ.get("FUNDING_OUTBOX") or cls.outbox_dir,
            mail_from=environ.get("FUNDING_MAIL_FROM") or cls.mail_from,
            redis_url=environ.get("REDIS_URL", ""),
            redis_namespace=environ.get("FUNDING_REDIS_NAMESPACE") or cls.redis_namespace,
            rate_limit_per_minute=int(environ.get("FUNDING_RATE_LIMIT") or cls.rate_limit_per_minute),
            staff_api_token=environ.get("FUNDING_STAFF_API_TOKEN", ""),
            database_pool_size=int(environ.get("DATABASE_POOL_SIZE", "10")),
            response_cache=environ.get("FUNDING_RESPONSE_CACHE", "on").lower() not in OFF,
            response_cache_bytes=int(environ.get("FUNDING_RESPONSE_CACHE_BYTES") or cls.response_cache_bytes),
            round_closing_interval=int(environ.get("FUNDING_CLOSE_ROUNDS_EVERY") or 3600),
            payment_reconcile_interval=int(environ.get("FUNDING_RECONCILE_EVERY") or 900),
            log_signing_key=environ.get("FUNDING_LOG_SIGNING_KEY", ""),
            log_key_file=environ.get("FUNDING_LOG_KEY_FILE") or DEFAULT_LOG_KEY_FILE,
            log_origin=environ.get("FUNDING_LOG_ORIGIN", ""),
            witnesses=tuple(key.strip() for key in environ.get("FUNDING_WITNESSES", "").split(",") if key.strip()),
            checkpoint_interval=int(environ.get("FUNDING_CHECKPOINT_EVERY") or 3600),
            max_pledge_euros=int(environ.get("FUNDING_MAX_PLEDGE") or cls.max_pledge_euros),
            bank_name=environ.get("FUNDING_BANK_NAME") or cls.bank_name,
            bank_iban=environ.get("FUNDING_BANK_IBAN") or cls.bank_iban,
            bank_bic=environ.get("FUNDING_BANK_BIC") or cls.bank_bic,
            seller_name=environ.get("FUNDING_SELLER_NAME") or cls.seller_name,
            seller_street=environ.get("FUNDING_SELLER_STREET") or cls.seller_street,
            seller_postcode=environ.get("FUNDING_SELLER_POSTCODE") or cls.seller_postcode,
            seller_city=environ.get("FUNDING_SELLER_CITY") or cls.seller_city,
            seller_kvk=environ.get("FUNDING_SELLER_KVK") or cls.seller_kvk,
            seller_oin=environ.get("FUNDING_SELLER_OIN", ""),
            seller_vat=environ.get("FUNDING_SELLER_VAT", ""),
            seller_email=environ.get("FUNDING_SELLER_EMAIL") or cls.seller_email,
            invoice_payment_days=int(environ.get("FUNDING_PAYMENT_TERM_DAYS") or cls.invoice_payment_days),
            vat_exemption_nl=environ.get("FUNDING_VAT_EXEMPTION_NL") or cls.vat_exemption_nl,
            vat_exemption_en=environ.get("FUNDING_VAT_EXEMPTION_EN") or cls.vat_exemption_en,
            peppol_outbox_dir=environ.get("FUNDING_PEPPOL_OUTBOX", ""),
            receipts_dir=environ.get("FUNDING_RECEIPTS_DIR") or cls.receipts_dir,
            receipt_max_bytes=int(environ.get("FUNDING_RECEIPT_MAX_BYTES") or cls.receipt_max_bytes),
            correction_threshold_euros=int(
                environ.get("FUNDING_CORRECTION_THRESHOLD") or cls.correction_threshold_euros
            ),
        )

    @property
    def migration_url(self) -> str:
        return self.database_owner_url or self.database_url

    @property
    def app_role(self) -> str | None:
        """The role the app connects as, when it is not the owner: migrating grants it its rights."""
        if not self.database_owner_url or not is_postgres_url(self.database_url):
            return None
        app, owner = urlsplit(self.database_url).username, urlsplit(self.database_owner_url).username
        return app if app and app != owner else None

    @property
    def checkpoint_origin(self) -> str:
        from funding.ledger.log import origin_for

        return self.log_origin or origin_for(self.base_url)

    @property
    def uses_postgres(self) -> bool:
        return is_postgres_url(self.database_url)

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")


def is_postgres_url(url: str) -> bool:
    return url.startswith(("postgres://", "postgresql://"))
