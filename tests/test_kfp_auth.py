"""Every Elyra auth type against the KFP API test server (tests/kfp_server: a stand-in with an emulated Dex login),
and TLS against a real HTTPS server with a self-signed certificate. Each failure has its own message."""

from __future__ import annotations

import datetime
import http.server
import json
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from kfp_server import KfpTestServer

from elyra_proc_ext.kfp.auth import KfpAuthError, connect
from elyra_proc_ext.kfp.session import KfpError, KfpSession

PASSWORD = "dex-Pa55word-31"


def metadata(server: KfpTestServer, **fields: object) -> dict[str, object]:
    return {"api_endpoint": server.endpoint, "timeout": 5, **fields}


def session(fields: dict[str, object]) -> KfpSession:
    return KfpSession(connect(fields), None)


@pytest.mark.parametrize("auth_type", ["DEX_STATIC_PASSWORDS", "DEX_LDAP", "DEX_LEGACY"])
def test_dex_logins(kfp_server: KfpTestServer, auth_type: str) -> None:
    kfp_server.dex_users = {"user@example.com": PASSWORD}
    if auth_type == "DEX_LEGACY":
        kfp_server.dex_connectors = ("local",)  # legacy clients expect Dex to go straight to its one login form
    good = metadata(kfp_server, auth_type=auth_type, api_username="user@example.com", api_password=PASSWORD)
    assert session(good).experiment("dex-check")
    with pytest.raises(KfpAuthError) as rejected:
        connect({**good, "api_password": "wrong-password"})
    assert "rejected the login for 'user@example.com'" in str(rejected.value)
    assert "wrong-password" not in str(rejected.value)


def test_dex_type_on_an_unsecured_cluster(kfp_server: KfpTestServer) -> None:
    with pytest.raises(KfpAuthError, match="not secured by Dex"):
        connect(metadata(kfp_server, auth_type="DEX_STATIC_PASSWORDS", api_username="u", api_password="p"))


def test_no_authentication_on_a_secured_cluster(kfp_server: KfpTestServer) -> None:
    kfp_server.dex_users = {"user@example.com": PASSWORD}
    with pytest.raises(KfpAuthError, match="requires authentication"):
        connect(metadata(kfp_server))


def test_bearer_and_service_account_tokens(kfp_server: KfpTestServer, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    kfp_server.require_token = "token-1234"
    assert session(metadata(kfp_server, auth_type="EXISTING_BEARER_TOKEN", api_password="token-1234")).experiment("t")
    with pytest.raises(KfpError, match=r"refused access \(HTTP 40"):
        session(metadata(kfp_server, auth_type="EXISTING_BEARER_TOKEN", api_password="token-9999"))
    token = tmp_path / "token"
    monkeypatch.setenv("KF_PIPELINES_SA_TOKEN_PATH", str(token))
    with pytest.raises(KfpAuthError, match="needs a token at"):
        connect(metadata(kfp_server, auth_type="KUBERNETES_SERVICE_ACCOUNT_TOKEN"))
    token.write_text("token-1234\n")
    assert session(metadata(kfp_server, auth_type="KUBERNETES_SERVICE_ACCOUNT_TOKEN")).experiment("sa")


def test_ui_endpoint_instead_of_api(kfp_server: KfpTestServer) -> None:
    with pytest.raises(KfpError, match="api_endpoint must be the pipelines API"):
        session({"api_endpoint": kfp_server.url + "/_/pipelines", "timeout": 5})


@pytest.fixture
def https_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A real HTTPS server with a self-signed certificate, answering KFP's health check."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now)
                   .not_valid_after(now + datetime.timedelta(days=1))
                   .add_extension(x509.SubjectAlternativeName([x509.IPAddress(__import__("ipaddress")
                                                                             .ip_address("127.0.0.1"))]), False)
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
                   .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "ca.pem", tmp_path / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))

    class Health(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps({"multi_user": False}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Health)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"https://127.0.0.1:{server.server_address[1]}/pipeline", cert_file
    server.shutdown()
    server.server_close()


def test_tls_with_a_private_certificate_authority(https_server: tuple[str, Path]) -> None:
    endpoint, ca_bundle = https_server
    with pytest.raises(KfpAuthError, match=r"TLS verification failed .* set ssl_ca_cert"):
        connect({"api_endpoint": endpoint, "timeout": 5})
    assert session({"api_endpoint": endpoint, "timeout": 5, "ssl_ca_cert": str(ca_bundle)}).client is not None
    assert session({"api_endpoint": endpoint, "timeout": 5, "verify_tls": False}).client is not None
    with pytest.raises(KfpAuthError, match="does not exist on this server"):
        connect({"api_endpoint": endpoint, "ssl_ca_cert": "/nowhere/ca.pem"})
