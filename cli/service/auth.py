"""Who is calling: a bearer token from `careledger token create`, its role, and what the role may call."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException

from cli.service.state import Service
from domain.episode.roles import Capability, Role, may, may_command
from projections.store.access import Actor
from projections.store.tokens import Principal

bearer = HTTPBearer(auto_error=False, description="A token from `careledger token create`.")
UNAUTHORIZED = {"WWW-Authenticate": 'Bearer realm="careledger"'}


@dataclass(frozen=True)
class Caller:
    """The authenticated caller of one request: name, role, and the actor its reads are logged as."""

    name: str
    role: Role
    actor: Actor

    def may_command(self, command: str) -> bool:
        """Tell whether the caller's role may send this command."""
        return may_command(self.role, command)


def service_of(request: Request) -> Service:
    """Return the worker's service (opened at start-up)."""
    service: Service = request.app.state.service
    return service


def authenticate(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)
) -> Caller:
    """Return the caller of a request, or refuse it with 401."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(401, "Bearer token required", headers=UNAUTHORIZED)
    principal: Principal | None = service_of(request).store.tokens.authenticate(credentials.credentials)
    if principal is None:
        raise HTTPException(401, "Unknown or revoked token", headers=UNAUTHORIZED)
    client = request.client.host if request.client is not None else "unknown"
    actor = Actor(user=principal.name, role=str(principal.role), origin=f"http {client}")
    request.state.role = str(principal.role)
    return Caller(principal.name, principal.role, actor)


def require(capability: Capability) -> Callable[..., Awaitable[Caller]]:
    """Return a dependency that lets through only callers whose role has `capability` (else 403)."""

    async def dependency(caller: Caller = Depends(authenticate)) -> Caller:  # no I/O: no thread
        if not may(caller.role, capability):
            raise HTTPException(403, f"the role '{caller.role}' may not {capability.value.replace('_', ' ')}")
        return caller

    return dependency
