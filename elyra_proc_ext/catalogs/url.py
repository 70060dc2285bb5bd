"""`url-catalog`: component files at URLs (http, https, file), as Elyra reads them, with optional basic-auth
credentials (`auth_id`, `auth_password`, or written in the URL) and TLS settings (`verify_tls`; the CA bundle of Elyra's
`TRUSTED_CA_BUNDLE_PATH` environment variable). Each fetch is bounded in size and in time (a silent server for
`seconds`, a trickling one for `seconds` overall, so at most twice that), so a slow or endless URL cannot hold a
refresh. Credentials are sent to the catalog's URLs only, not to where they redirect. Op ids hash the URL."""

from __future__ import annotations

import base64
import os
import ssl
import time
import urllib.error
import urllib.request
from typing import Any, ClassVar
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from ..redaction import without_credentials
from .connector import CatalogConnector, CatalogReadError, ReadLimits
from .local import read_file

CHUNK = 64 * 1024
CA_BUNDLE_VARIABLE = "TRUSTED_CA_BUNDLE_PATH"


def tls_context(verify: bool) -> ssl.SSLContext:
    if not verify:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    return ssl.create_default_context(cafile=os.environ.get(CA_BUNDLE_VARIABLE, "").strip() or None)


def fetch(url: str, limits: ReadLimits, credentials: tuple[str, str] | None = None, verify: bool = True) -> bytes:
    """The body of `url`, read within `limits` (all of it within `limits.seconds`)."""
    scheme = urlsplit(url).scheme.lower()
    if scheme == "file":
        return read_file(url2pathname(urlsplit(url).path), limits)
    if scheme not in ("http", "https"):
        raise CatalogReadError(f"{url}: only http, https and file URLs can be read.")
    parts = urlsplit(url)
    if parts.username is not None:  # `https://user:password@host/...`: basic auth, as requests reads it
        credentials = credentials or (unquote(parts.username), unquote(parts.password or ""))
    request = urllib.request.Request(without_credentials(url),
                                     headers={"Accept": "application/yaml, text/yaml, text/plain, */*"})
    if credentials:
        token = base64.b64encode(f"{credentials[0]}:{credentials[1]}".encode()).decode()
        request.add_unredirected_header("Authorization", f"Basic {token}")
    deadline = time.monotonic() + limits.seconds
    try:
        with urllib.request.urlopen(request, timeout=limits.seconds, context=tls_context(verify)) as response:
            chunks, size = [], 0
            while chunk := response.read1(CHUNK):  # what has arrived: a trickling server is caught at the deadline
                chunks.append(chunk)
                size += len(chunk)
                if size > limits.max_bytes:
                    raise CatalogReadError(f"{url}: larger than {limits.max_bytes} bytes; component files are small.")
                if time.monotonic() > deadline:
                    raise TimeoutError
            return b"".join(chunks)
    except urllib.error.HTTPError as error:
        raise CatalogReadError(f"{url}: the server answered {error.code} {error.reason}.") from None
    except TimeoutError:
        raise CatalogReadError(f"{url}: did not answer within {limits.seconds:g} s.") from None
    except urllib.error.URLError as error:
        if isinstance(error.reason, TimeoutError):
            raise CatalogReadError(f"{url}: did not answer within {limits.seconds:g} s.") from None
        raise CatalogReadError(f"{url}: cannot be read ({error.reason}).") from None
    except (OSError, ValueError) as error:  # connection reset, a malformed URL or answer
        raise CatalogReadError(f"{url}: cannot be read ({error}).") from None


class UrlConnector(CatalogConnector):
    schema_name = "url-catalog"
    display_name = "URL Component Catalog"
    description = "Component files at URLs"
    hash_keys = ("url",)
    required_metadata = ("paths",)
    secret_fields = ("auth_password",)
    metadata_properties: ClassVar[dict[str, Any]] = {
        "paths": {"type": "array", "items": {"type": "string", "pattern": "^(https?|file)://"}, "minItems": 1,
                  "title": "URLs", "description": "URLs of component specification files"},
        "auth_id": {"type": "string", "minLength": 1, "title": "User Id",
                    "description": "User id that can read the URLs"},
        "auth_password": {"type": "string", "minLength": 1, "title": "Password",
                          "description": "Password or API key of the user id"},
        "verify_tls": {"type": "boolean", "title": "Verify TLS certificates", "default": True,
                       "description": f"Check the servers' certificates (against ${CA_BUNDLE_VARIABLE} when set)"},
    }

    def entries(self, metadata: dict[str, Any]) -> list[dict[str, str]]:
        if bool(metadata.get("auth_id")) != bool(metadata.get("auth_password")):
            raise CatalogReadError("Authentication needs both auth_id and auth_password (a user id and its password "
                                   "or API key).")
        return [{"url": url} for url in metadata.get("paths", [])]

    def read(self, entry: dict[str, str], metadata: dict[str, Any], limits: ReadLimits) -> bytes:
        credentials = (metadata["auth_id"], metadata["auth_password"]) if metadata.get("auth_id") else None
        return fetch(entry["url"], limits, credentials, verify=metadata.get("verify_tls", True) is not False)
