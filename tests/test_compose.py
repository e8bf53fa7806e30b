"""docker-compose.yml cannot be run here, so it is read: it must wire the app the way the app reads
its environment, and hold no secret."""

import re

import pytest
import yaml

from funding.settings import ROOT

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SECRETS = {
    "FUNDING_SECRET_KEY",
    "FUNDING_STAFF_API_TOKEN",
    "MOLLIE_API_KEY",
    "POSTGRES_PASSWORD",
    "POSTGRES_APP_PASSWORD",
}


def variables_the_app_reads() -> set[str]:
    source = (ROOT / "funding" / "settings.py").read_text()
    return set(re.findall(r'environ\.get\("([A-Z_]+)"', source))


def test_app_postgres_mail_and_redis_services_exist():
    assert {"app", "postgres", "mail", "redis"} <= set(COMPOSE["services"])


def test_app_gets_every_variable_it_reads():
    environment = COMPOSE["services"]["app"]["environment"]
    # The owner's URL is the one-shot migrate service's only: the app never holds that password.
    expected = variables_the_app_reads() - {"DATABASE_POOL_SIZE", "DATABASE_OWNER_URL"}
    assert expected <= set(environment), expected - set(environment)


def test_app_talks_to_the_compose_postgres_mail_catcher_and_redis():
    app = COMPOSE["services"]["app"]
    postgres = COMPOSE["services"]["postgres"]["environment"]
    assert app["environment"]["DATABASE_URL"].endswith(f"@postgres:5432/{postgres['POSTGRES_DB']}")
    assert app["environment"]["SMTP_URL"] == "smtp://mail:1025"
    assert app["environment"]["REDIS_URL"] == "redis://redis:6379/0"  # the workers share the rate limits
    assert "funding serve" in " ".join(app["command"])


def role(url: str) -> str:
    return re.match(r"postgresql://([^:@]+)", url).group(1)


def test_the_app_connects_as_a_role_that_owns_nothing_and_migrations_run_as_the_owner():
    services = COMPOSE["services"]
    owner = services["postgres"]["environment"]["POSTGRES_USER"]
    app_role = role(services["app"]["environment"]["DATABASE_URL"])
    migrate = services["migrate"]
    assert app_role != owner and "DATABASE_OWNER_URL" not in services["app"]["environment"]
    assert role(migrate["environment"]["DATABASE_OWNER_URL"]) == owner
    assert role(migrate["environment"]["DATABASE_URL"]) == app_role  # so migrating grants it its rights
    assert "funding migrate" in " ".join(migrate["command"])
    assert services["app"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    [init] = services["postgres"]["configs"]
    assert init["target"].startswith("/docker-entrypoint-initdb.d/")
    script = COMPOSE["configs"][init["source"]]["content"].replace("$$", "$")
    created = re.search(r"CREATE ROLE (\w+) LOGIN PASSWORD :'app_password'(.*);", script)
    assert created and created.group(1) == app_role
    assert "NOSUPERUSER" in created.group(2) and "NOCREATEROLE" in created.group(2)
    assert 'app_password="$POSTGRES_APP_PASSWORD"' in script
    assert "POSTGRES_APP_PASSWORD" in services["postgres"]["environment"]


def test_no_secret_is_written_into_the_file():
    for service in COMPOSE["services"].values():
        for name, value in (service.get("environment") or {}).items():
            if name in SECRETS:
                assert re.fullmatch(r"\$\{[A-Z_]+(:[?-][^}]*)?\}", str(value)), f"{name} must come from the environment"
    assert "${POSTGRES_APP_PASSWORD" in COMPOSE["services"]["app"]["environment"]["DATABASE_URL"]
    assert "${POSTGRES_PASSWORD" in COMPOSE["services"]["migrate"]["environment"]["DATABASE_OWNER_URL"]


# -- the reverse proxy --------------------------------------------------------------------------

PROXY_CONF_PATH = "/etc/nginx/conf.d/default.conf"
TIMEOUT_BOUNDS = {  # seconds: the most each may be
    "client_header_timeout": 15,
    "client_body_timeout": 15,
    "send_timeout": 15,
    "keepalive_timeout": 30,
}


def proxy_config() -> str:
    """The nginx configuration as nginx reads it (compose turns `$$` into `$`)."""
    [mount] = COMPOSE["services"]["proxy"]["configs"]
    assert mount["target"] == PROXY_CONF_PATH  # the file nginx's http block includes
    return COMPOSE["configs"][mount["source"]]["content"].replace("$$", "$")


def directives(config: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in config.splitlines():
        if match := re.match(r"\s*([a-z_0-9]+)\s+([^;{]*);", line.split("#")[0]):
            found.setdefault(match.group(1), []).append(match.group(2).strip())
    return found


def seconds(value: str) -> float:
    number, unit = re.fullmatch(r"(\d+)(ms|s|m)?", value).groups()
    return int(number) * {"ms": 0.001, "s": 1, "m": 60, None: 1}[unit]


def test_only_the_proxy_is_published_and_it_forwards_to_the_app():
    services = COMPOSE["services"]
    assert [name for name, service in services.items() if "ports" in service and name != "mail"] == ["proxy"]
    assert "8000:8080" in services["proxy"]["ports"]
    assert services["proxy"]["depends_on"]["app"]["condition"] == "service_healthy"
    assert "8000" in [str(port) for port in services["app"]["expose"]]
    found = directives(proxy_config())
    assert found["listen"] == ["8080"]
    assert set(found["proxy_pass"]) == {"http://app:8000"}
    assert found["access_log"] == ["off"], "a pledge's private address stays out of the access log"
    # The client's address is set, not appended to, so no client can forge the one the app logs.
    assert "X-Forwarded-For $remote_addr" in found["proxy_set_header"]
    assert services["app"]["environment"]["FORWARDED_ALLOW_IPS"] == "*"


@pytest.mark.parametrize(("name", "bound"), TIMEOUT_BOUNDS.items())
def test_the_proxy_bounds_slow_clients(name, bound):
    [value] = directives(proxy_config())[name]
    assert 0 < seconds(value.split()[0]) <= bound, f"{name} {value}"


def test_the_proxy_bounds_sizes_and_connections():
    found = directives(proxy_config())
    [body] = found["client_max_body_size"]
    assert re.fullmatch(r"\d+k", body) and int(body[:-1]) <= 1024
    [buffers] = found["large_client_header_buffers"]
    count, size = buffers.split()
    assert int(count) * int(size.rstrip("k")) <= 64
    assert found["limit_conn"] and found["limit_conn_zone"]
    assert found["proxy_request_buffering"] == ["on"]  # the app never waits for a slow body
    assert found["reset_timedout_connection"] == ["on"]


def test_nginx_variables_are_escaped_from_compose():
    content = COMPOSE["configs"]["nginx"]["content"]
    assert not re.search(r"(?<!\$)\$(?!\$)[a-z_{]", content.replace("$$", "")), "a $ compose would interpolate"
