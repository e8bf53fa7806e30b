"""One log record is one line: control characters from requests are escaped, whatever logs them."""

import io
import logging

from funding.logs import EscapeControlCharacters, escape


def test_escape_writes_controls_as_python_escapes():
    assert escape("/x\nINFO forged\x00\r\t\x1b[31m\x85\u2028ok") == "/x\\nINFO forged\\x00\\r\\t\\x1b[31m\\x85\\u2028ok"
    assert escape("gewöhnlich € text") == "gewöhnlich € text"


def _logged(*args, exc_info=None, msg="unhandled error on %s %s") -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    handler.addFilter(EscapeControlCharacters())
    logger = logging.getLogger("tests.logs")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.error(msg, *args, exc_info=exc_info)
    finally:
        logger.removeHandler(handler)
    return stream.getvalue()


def test_a_forged_line_in_an_argument_stays_on_its_line():
    text = _logged("GET", "/static/\nINFO forged\x00")
    assert text == "ERROR unhandled error on GET /static/\\nINFO forged\\x00\n"


def test_a_pledges_private_token_never_reaches_a_log():
    line = _logged("POST", "/pledges/Zx_3-abcdefghijklmnopqrstuvwxyz0123456789ABCD/amount?done=1")
    assert line == "ERROR unhandled error on POST /pledges/…/amount?done=1\n"
    assert "abcdefghij" not in _logged("GET /pledges/abcdefghijklmnopqrst", msg="%s")


def test_arguments_keep_their_formats():
    assert _logged(404, ValueError("a\nb"), msg="%d %r") == "ERROR 404 ValueError('a\\nb')\n"
    assert _logged(Exception("a\nb"), msg="%s") == "ERROR a\\nb\n"


def test_a_traceback_cannot_start_a_line_of_its_own():
    try:
        raise ValueError("boom\nINFO forged")
    except ValueError as exc:
        text = _logged("GET", "/", exc_info=exc)
    first, *rest = text.rstrip("\n").split("\n")
    assert first == "ERROR unhandled error on GET /"
    assert rest and all(line.startswith("  | ") for line in rest)
    assert "  | ValueError: boom" in rest and "  | INFO forged" in rest


def test_uvicorns_handlers_and_the_apps_carry_the_filter(settings):
    import logging.config

    from funding.app import create_app
    from funding.logs import uvicorn_log_config

    config = uvicorn_log_config()
    assert set(config["handlers"]) == {"default", "access"}
    logging.config.dictConfig(config)
    for name in ("uvicorn.access", "uvicorn"):
        [handler] = logging.getLogger(name).handlers
        assert any(isinstance(f, EscapeControlCharacters) for f in handler.filters), name
    create_app(settings)  # configures the root logger, which the app's own loggers propagate to
    handlers = logging.getLogger().handlers
    assert handlers and all(any(isinstance(f, EscapeControlCharacters) for f in h.filters) for h in handlers)
