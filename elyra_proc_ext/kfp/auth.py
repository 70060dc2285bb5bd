"""Authentication against a Kubeflow Pipelines endpoint, for every auth type Elyra's configurations use.

Each type becomes the keyword arguments `kfp.Client` takes (token, cookies or credentials). Each failure mode has
its own message saying what to change; no message, log line or exception carries a password or token.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..errors import KfpAuthError

SA_TOKEN_PATH = "/var/run/secrets/kubeflow/pipelines/token"
SA_TOKEN_PATH_ENV = "KF_PIPELINES_SA_TOKEN_PATH"
DEX_CONNECTORS = {"DEX_STATIC_PASSWORDS": "local", "DEX_LDAP": "ldap"}


@dataclass(frozen=True)
class Connection:
    """How to reach one KFP endpoint: TLS settings, timeout and the credentials for `kfp.Client`."""

    host: str
    verify: bool | str
    timeout: float
    client_kwargs: dict[str, Any]
    headers: dict[str, str]


def tls_verify(metadata: dict[str, Any]) -> bool | str:
    """A CA bundle path when configured (self-signed clusters), else the verify switch (default on)."""
    ca_bundle = metadata.get("ssl_ca_cert")
    if ca_bundle:
        if not Path(ca_bundle).is_file():
            raise KfpAuthError(f"The CA bundle '{ca_bundle}' (ssl_ca_cert) does not exist on this server.")
        return str(ca_bundle)
    return bool(metadata.get("verify_tls", True))


def connect(metadata: dict[str, Any]) -> Connection:
    """Authenticate as the configuration says; blocking (HTTP), so call it off the event loop."""
    host = str(metadata["api_endpoint"]).rstrip("/")
    timeout = float(metadata.get("timeout") or 60)
    verify = tls_verify(metadata)
    auth_type = metadata.get("auth_type") or "NO_AUTHENTICATION"
    if auth_type == "EXISTING_BEARER_TOKEN":
        if not metadata.get("api_password"):
            raise KfpAuthError("auth_type EXISTING_BEARER_TOKEN needs the token in api_password.")
        kwargs: dict[str, Any] = {"existing_token": metadata["api_password"]}
        headers = {"Authorization": f"Bearer {metadata['api_password']}"}
    elif auth_type == "KUBERNETES_SERVICE_ACCOUNT_TOKEN":
        credentials, token = _service_account_credentials()
        kwargs, headers = {"credentials": credentials}, {"Authorization": f"Bearer {token}"}
    elif auth_type in ("DEX_STATIC_PASSWORDS", "DEX_LDAP", "DEX_LEGACY"):
        cookies = (_dex_login(host, metadata, DEX_CONNECTORS[auth_type], verify, timeout)
                   if auth_type in DEX_CONNECTORS else _dex_legacy_login(host, metadata, verify, timeout))
        kwargs, headers = {"cookies": cookies}, ({"Cookie": cookies} if cookies else {})
    elif auth_type == "NO_AUTHENTICATION":
        _check_unsecured(host, verify, timeout)
        kwargs, headers = {}, {}
    else:
        raise KfpAuthError(f"Unknown auth_type '{auth_type}'.")
    return Connection(host=host, verify=verify, timeout=timeout, client_kwargs=kwargs, headers=headers)


def _get(session: Any, url: str, verify: bool | str, timeout: float) -> Any:
    import requests

    try:
        return session.get(url, verify=verify, timeout=timeout)
    except requests.exceptions.SSLError:
        raise KfpAuthError(f"TLS verification failed for {_origin(url)}: set ssl_ca_cert to the cluster's CA "
                           "bundle (or verify_tls to false for a test cluster).") from None
    except requests.exceptions.Timeout:
        raise KfpAuthError(f"Kubeflow at {_origin(url)} did not answer within {timeout:g} s.", 504) from None
    except requests.exceptions.ConnectionError:
        raise KfpAuthError(f"Cannot connect to Kubeflow at {_origin(url)}: check api_endpoint and that the "
                           "cluster is reachable from this server.") from None


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _check_unsecured(host: str, verify: bool | str, timeout: float) -> None:
    import requests

    with requests.Session() as session:
        session.max_redirects = 10
        response = _get(session, host, verify, timeout)
    if response.history and "auth" in response.url:
        raise KfpAuthError(f"Kubeflow at {_origin(host)} requires authentication (it redirects to a login page): "
                           "choose the auth_type your cluster uses, such as DEX_STATIC_PASSWORDS.")


def _credentials(metadata: dict[str, Any], auth_type: str) -> tuple[str, str]:
    username, password = metadata.get("api_username"), metadata.get("api_password")
    if not username or not password:
        raise KfpAuthError(f"auth_type {auth_type} needs api_username and api_password.")
    return str(username), str(password)


def _cookie_header(session: Any) -> str:
    return "; ".join(f"{cookie.name}={cookie.value}" for cookie in session.cookies)


def _dex_login(host: str, metadata: dict[str, Any], connector: str, verify: bool | str, timeout: float) -> str:
    """Follow Kubeflow's redirect to Dex, pick the connector, post the login form, keep the session cookies."""
    import requests

    auth_type = "DEX_STATIC_PASSWORDS" if connector == "local" else "DEX_LDAP"
    username, password = _credentials(metadata, auth_type)
    with requests.Session() as session:
        response = _get(session, host, verify, timeout)
        if not response.history:
            raise KfpAuthError(f"Kubeflow at {_origin(host)} is not secured by Dex (no login redirect): use "
                               "auth_type NO_AUTHENTICATION or EXISTING_BEARER_TOKEN.")
        login_url = response.url
        if urlsplit(login_url).path.rstrip("/").endswith("/auth"):
            parts = urlsplit(login_url)
            login_url = parts._replace(path=parts.path.rstrip("/") + f"/{connector}").geturl()
            response = _get(session, login_url, verify, timeout)
            login_url = response.url
        try:
            posted = session.post(login_url, data={"login": username, "password": password}, verify=verify,
                                  timeout=timeout)
        except requests.exceptions.RequestException:
            raise KfpAuthError(f"The Dex login at {_origin(login_url)} failed to answer.") from None
        if not posted.history:
            raise KfpAuthError(f"Dex at {_origin(login_url)} rejected the login for '{username}': check "
                               "api_username and api_password.")
        cookies = _cookie_header(session)
    if not cookies:
        raise KfpAuthError(f"Dex at {_origin(login_url)} accepted the login but set no session cookie.")
    return cookies


def _dex_legacy_login(host: str, metadata: dict[str, Any], verify: bool | str, timeout: float) -> str | None:
    """Elyra before 3.3: post credentials when redirected to Dex, keep only the authservice_session cookie."""
    import requests

    with requests.Session() as session:
        response = _get(session, host, verify, timeout)
        if "dex/auth" not in response.url:
            return None
        username, password = _credentials(metadata, "DEX_LEGACY")
        try:
            session.post(response.url, data={"login": username, "password": password}, verify=verify,
                         timeout=timeout)
        except requests.exceptions.RequestException:
            raise KfpAuthError(f"The Dex login at {_origin(response.url)} failed to answer.") from None
        cookie = session.cookies.get("authservice_session")
    if not cookie:
        raise KfpAuthError(f"Dex at {_origin(host)} rejected the login for '{username}': check api_username and "
                           "api_password.")
    return f"authservice_session={cookie}"


def _service_account_credentials() -> tuple[Any, str]:
    from kfp.client.set_volume_credentials import ServiceAccountTokenVolumeCredentials

    path = Path(os.environ.get(SA_TOKEN_PATH_ENV) or SA_TOKEN_PATH)
    token = path.read_text().strip() if path.is_file() else ""
    if not token:
        raise KfpAuthError(f"auth_type KUBERNETES_SERVICE_ACCOUNT_TOKEN needs a token at {path} (projected into "
                           f"the notebook pod; another path can be set with {SA_TOKEN_PATH_ENV}).")
    return ServiceAccountTokenVolumeCredentials(path=str(path)), token
