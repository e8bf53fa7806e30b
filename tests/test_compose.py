"""docker-compose.yml cannot be run here, so it is read: it must wire the app the way the app reads
its environment, and hold no secret."""

import re

import yaml

from funding.settings import ROOT

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SECRETS = {"FUNDING_SECRET_KEY", "FUNDING_STAFF_API_TOKEN", "MOLLIE_API_KEY", "POSTGRES_PASSWORD"}


def variables_the_app_reads() -> set[str]:
    source = (ROOT / "funding" / "settings.py").read_text()
    return set(re.findall(r'environ\.get\("([A-Z_]+)"', source))


def test_app_postgres_and_mail_services_exist():
    assert {"app", "postgres", "mail"} <= set(COMPOSE["services"])


def test_app_gets_every_variable_it_reads():
    environment = COMPOSE["services"]["app"]["environment"]
    expected = variables_the_app_reads() - {"DATABASE_POOL_SIZE"}
    assert expected <= set(environment), expected - set(environment)


def test_app_talks_to_the_compose_postgres_and_mail_catcher():
    app = COMPOSE["services"]["app"]
    database_url = app["environment"]["DATABASE_URL"]
    postgres = COMPOSE["services"]["postgres"]["environment"]
    assert database_url.startswith(f"postgresql://{postgres['POSTGRES_USER']}:")
    assert database_url.endswith(f"@postgres:5432/{postgres['POSTGRES_DB']}")
    assert app["environment"]["SMTP_URL"] == "smtp://mail:1025"
    assert app["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "funding serve" in " ".join(app["command"])
    assert "8000:8000" in app["ports"]


def test_no_secret_is_written_into_the_file():
    for service in COMPOSE["services"].values():
        for name, value in (service.get("environment") or {}).items():
            if name in SECRETS:
                assert re.fullmatch(r"\$\{[A-Z_]+(:[?-][^}]*)?\}", str(value)), f"{name} must come from the environment"
    assert "${POSTGRES_PASSWORD" in COMPOSE["services"]["app"]["environment"]["DATABASE_URL"]
