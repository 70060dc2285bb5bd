"""The extension obeys the server's authorizer: a read-only policy may look at runs but not start or change any."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import node, pipeline_document
from jupyter_server.auth.authorizer import Authorizer


class ReadOnlyAuthorizer(Authorizer):
    """Allows reading everything and writing nothing, as an operator's custom policy might."""

    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        self.log.info("authorize %s on %s", action, resource)
        return action == "read"


@pytest.fixture
def jp_server_config() -> dict[str, Any]:
    return {"ServerApp": {"jpserver_extensions": {"elyra_proc_ext": True},
                          "authorizer_class": ReadOnlyAuthorizer}}


async def test_read_only_authorizer_is_obeyed(jp_fetch: Any) -> None:
    for path in (("runs",), ("runtimes",), ("schema",), ("runtime-configs",)):
        assert (await jp_fetch("pipeline", *path)).code == 200
    document = json.dumps(pipeline_document("p", [node("a", "a.py")]))
    checked = await jp_fetch("pipeline", "validate", method="POST", body=document)  # changes nothing: allowed
    assert checked.code == 200 and json.loads(checked.body)["valid"] is False
    writes = [("POST", ("schedule",), document), ("POST", ("export",), "{}"),
              ("POST", ("runtime-configs",), "{}"), ("PUT", ("runtime-configs", "x"), "{}"),
              ("DELETE", ("runtime-configs", "x"), None), ("POST", ("runs", "x", "cancel"), "")]
    for method, path, body in writes:
        response = await jp_fetch("pipeline", *path, method=method, body=body, raise_error=False,
                                  allow_nonstandard_methods=True)
        assert response.code == 403, (method, path, response.code)
        answer = json.loads(response.body)
        assert answer["reason"] == "Forbidden" and "not authorized" in answer["message"]
