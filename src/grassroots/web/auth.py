"""Who is asking: the pages under /grassroots are for whoever is logged in to the Airflow UI.

The Airflow UI keeps its JWT in the cookie `_token` (path /, so the browser sends it
here too); API clients send it as `Authorization: Bearer <token>`. The token is checked
by Airflow's own auth manager (signature, expiry, revocation), the one the API server
runs with (the SimpleAuthManager under `grassroots serve`), so a login, a logout and a
password change mean the same here as in the UI.

The API other modules use:

    user = await current_user(request)     # the user, or None (anonymous or bad token)

    @router.get("/page")
    async def page(user: LoggedIn): ...          # LoggedIn = Annotated[User, Depends(require_user)]

`require_user` sends an anonymous browser (GET/HEAD) to the Airflow login with
`next=` this page, so it comes back here after logging in; other requests get 401.
`user.get_name()` is the login name (Airflow's BaseUser).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, HTTPException, Request, status

if TYPE_CHECKING:
    from airflow.api_fastapi.auth.managers.models.base_user import BaseUser as User
else:
    User = Any

# airflow.api_fastapi.auth.managers.base_auth_manager.COOKIE_NAME_JWT_TOKEN, written out
# so importing this module does not import Airflow's API server.
TOKEN_COOKIE = "_token"
_CACHED = "grassroots_user"


def auth_manager():
    """The API server's auth manager (initialized by Airflow before it mounts plugins)."""
    from airflow.api_fastapi.app import get_auth_manager

    return get_auth_manager()


def request_token(request: Request) -> str | None:
    """The JWT of the request: the Authorization header wins over the UI's cookie."""
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return request.cookies.get(TOKEN_COOKIE) or None


async def current_user(request: Request) -> User | None:
    """The logged-in user, or None when the request has no token or an invalid, expired
    or revoked one. Checked once per request."""
    if _CACHED in request.scope.get("state", {}):
        return request.scope["state"][_CACHED]
    from jwt import InvalidTokenError  # ExpiredSignatureError is one

    token = request_token(request)
    user = None
    if token:
        try:
            user = await auth_manager().get_user_from_token(token)
        except InvalidTokenError:
            user = None
    request.scope.setdefault("state", {})[_CACHED] = user
    return user


def login_url(request: Request) -> str:
    """The Airflow login page, coming back to this page (path and query) afterwards."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return auth_manager().get_url_login(next_url=here)


async def require_user(request: Request) -> User:
    """FastAPI dependency: the logged-in user; else a redirect to the login (browsers'
    GET and HEAD) or 401."""
    user = await current_user(request)
    if user is not None:
        return user
    if request.method in ("GET", "HEAD") and "authorization" not in request.headers:
        raise HTTPException(status.HTTP_302_FOUND, headers={"Location": login_url(request)})
    raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail="Chưa đăng nhập")


# A route's parameter `user: LoggedIn` is the logged-in user (require_user).
LoggedIn = Annotated[User, Depends(require_user)]
