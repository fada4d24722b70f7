"""build_base_url: the base URL from its documented forms, or a ConfigError saying what to give."""

from __future__ import annotations

import pytest

from approvalflow_sync.approvalflow.base_url import (
    BaseURLParts,
    build_base_url,
    check_url,
    is_loopback,
    url_parts,
)
from approvalflow_sync.errors import ConfigError

CLOUD = "a436116f-02ce-4520-8fbb-7301462a1674"


def test_cloud_id_form() -> None:
    url = build_base_url(cloud_id=CLOUD, app_id="app-1", environment_id="env-2")

    assert url == f"https://api.atlassian.com/svc/confluence/{CLOUD}/apps/app-1_env-2"


def test_site_form() -> None:
    url = build_base_url(site="acme.atlassian.net", app_id="app-1", environment_id="env-2")

    assert url == "https://acme.atlassian.net/gateway/api/svc/confluence/apps/app-1_env-2"


def test_site_given_as_https_url_is_accepted() -> None:
    url = build_base_url(site="https://acme.atlassian.net/", app_id="a", environment_id="e")

    assert url == "https://acme.atlassian.net/gateway/api/svc/confluence/apps/a_e"


def test_parts_are_trimmed() -> None:
    url = build_base_url(cloud_id=f" {CLOUD} ", app_id=" app ", environment_id="env\n")

    assert url == f"https://api.atlassian.com/svc/confluence/{CLOUD}/apps/app_env"


def test_whole_base_url_is_taken_as_given_without_trailing_slash() -> None:
    given = "https://api.atlassian.com/svc/confluence/c/apps/app"

    assert build_base_url(base_url=given + "/") == given


def test_empty_parts_next_to_a_whole_url_are_not_a_conflict() -> None:
    given = "https://api.atlassian.com/svc/confluence/c/apps/app"

    assert build_base_url(base_url=given, cloud_id="", app_id="") == given


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/svc",
        "http://localhost:9000",
        "http://[::1]:8080/x",
        "http://127.0.0.2/x",
    ],
)
def test_plain_http_is_allowed_on_loopback(url: str) -> None:
    assert build_base_url(base_url=url) == url


@pytest.mark.parametrize(
    "url",
    ["http://api.atlassian.com/svc", "http://localhost.evil.example/x", "http://10.0.0.1/x"],
)
def test_plain_http_is_refused_elsewhere(url: str) -> None:
    with pytest.raises(ConfigError, match="plain http; use https"):
        build_base_url(base_url=url)


@pytest.mark.parametrize("url", ["api.atlassian.com/svc", "ftp://host/x", "https://", "/apps/x"])
def test_a_url_that_is_not_absolute_http_is_refused(url: str) -> None:
    with pytest.raises(ConfigError, match="not an absolute URL"):
        build_base_url(base_url=url)


@pytest.mark.parametrize("url", ["https://host/x?cloud=1", "https://host/x#frag"])
def test_a_url_with_query_or_fragment_is_refused(url: str) -> None:
    with pytest.raises(ConfigError, match="query or fragment"):
        build_base_url(base_url=url)


def test_whole_url_and_parts_together_conflict_and_both_are_named() -> None:
    with pytest.raises(ConfigError) as caught:
        build_base_url(base_url="https://h/x", cloud_id=CLOUD, app_id="a")

    message = str(caught.value)
    assert message.startswith("base-url: given together with cloud-id, app-id")
    assert "not both" in message


def test_cloud_id_and_site_together_conflict() -> None:
    with pytest.raises(ConfigError, match="cloud-id and site: both given; give one of them"):
        build_base_url(cloud_id=CLOUD, site="acme.atlassian.net", app_id="a", environment_id="e")


def test_nothing_given_says_what_to_give() -> None:
    with pytest.raises(ConfigError) as caught:
        build_base_url()

    message = str(caught.value)
    assert message.startswith("base-url: not set")
    for name in ("cloud-id", "site", "app-id", "environment-id"):
        assert name in message


@pytest.mark.parametrize(
    ("given", "missing"),
    [
        ({"cloud_id": CLOUD}, "app-id, environment-id: missing"),
        ({"site": "acme.atlassian.net", "app_id": "a"}, "environment-id: missing"),
        ({"app_id": "a", "environment_id": "e"}, "cloud-id: missing"),
        ({"environment_id": "e"}, "cloud-id, app-id: missing"),
    ],
)
def test_missing_parts_are_named(given: dict[str, str], missing: str) -> None:
    with pytest.raises(ConfigError) as caught:
        build_base_url(**given)

    assert str(caught.value).startswith(missing)


def test_name_prefix_is_put_before_every_setting_name() -> None:
    with pytest.raises(ConfigError) as caught:
        build_base_url(cloud_id=CLOUD, name_prefix="--")

    assert str(caught.value).startswith("--app-id, --environment-id: missing")
    assert "--base-url" in str(caught.value)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("cloud_id", "abc/def"),
        ("cloud_id", "../etc"),
        ("app_id", "app id"),
        ("app_id", "-app"),
        ("environment_id", "env_1"),
        ("environment_id", "env?x=1"),
    ],
)
def test_a_bad_id_is_refused_and_named(field: str, value: str) -> None:
    parts = {"cloud_id": CLOUD, "app_id": "app", "environment_id": "env"}
    parts[field] = value

    with pytest.raises(ConfigError) as caught:
        build_base_url(**parts)

    message = str(caught.value)
    assert message.startswith(field.replace("_", "-") + ": ")
    assert repr(value) in message
    assert "letters, digits and hyphens" in message


@pytest.mark.parametrize("site", ["acme", "acme.atlassian.net/wiki", "http://acme.atlassian.net"])
def test_a_site_that_is_not_a_host_name_is_refused(site: str) -> None:
    with pytest.raises(ConfigError, match=r"site: .* is not a host name; give it as acme"):
        build_base_url(site=site, app_id="a", environment_id="e")


def test_check_url_names_the_setting() -> None:
    with pytest.raises(ConfigError, match=r"^token-url: "):
        check_url("http://example.com", "token-url")


@pytest.mark.parametrize(
    ("host", "expected"),
    [("localhost", True), ("127.0.0.1", True), ("::1", True), ("example.com", False)],
)
def test_is_loopback(host: str, expected: bool) -> None:
    assert is_loopback(host) is expected


# -- url_parts: the ids read back, for ``auth check`` ---------------------------------------------


def test_the_ids_are_read_back_from_both_forms() -> None:
    api = build_base_url(cloud_id=CLOUD, app_id="app-1", environment_id="env-2")
    gateway = build_base_url(site="acme.atlassian.net", app_id="app-1", environment_id="env-2")

    assert url_parts(api) == BaseURLParts(cloud_id=CLOUD, app_id="app-1", environment_id="env-2")
    assert url_parts(gateway + "/") == BaseURLParts(
        site="acme.atlassian.net", app_id="app-1", environment_id="env-2"
    )


@pytest.mark.parametrize(
    ("url", "parts"),
    [
        ("http://127.0.0.1:8080", BaseURLParts()),
        ("https://proxy.example.com/approvalflow", BaseURLParts()),
        (f"https://api.atlassian.com/svc/confluence/{CLOUD}/apps/app-1",
         BaseURLParts(cloud_id=CLOUD, app_id="app-1")),
    ],
)  # fmt: skip
def test_a_url_without_them_has_none(url: str, parts: BaseURLParts) -> None:
    assert url_parts(url) == parts
