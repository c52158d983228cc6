"""A small client of the test cloud's REST APIs with a Keystone v3 token: what the cloud's
set-up and PCM's tests do as its administrator (projects, users, a server's host)."""

from __future__ import annotations

import requests


class Api:
    """A session with a Keystone token, for one user in one project."""

    def __init__(self, keystone: str, user: str, password: str, project: str):
        body = {
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {
                        "user": {"name": user, "domain": {"id": "default"}, "password": password}
                    },
                },
                "scope": {"project": {"name": project, "domain": {"id": "default"}}},
            }
        }
        answer = requests.post(f"{keystone}/v3/auth/tokens", json=body, timeout=30)
        answer.raise_for_status()
        self.session = requests.Session()
        self.session.headers["X-Auth-Token"] = answer.headers["X-Subject-Token"]

    def call(self, method: str, url: str, **kwargs) -> dict:
        answer = self.session.request(method, url, timeout=60, **kwargs)
        if not answer.ok:
            raise RuntimeError(f"{method} {url}: {answer.status_code} {answer.text[:500]}")
        return answer.json() if answer.content else {}


def role(admin: Api, keystone: str, name: str) -> str:
    roles = admin.call("GET", f"{keystone}/v3/roles", params={"name": name})["roles"]
    if roles:
        return roles[0]["id"]
    return admin.call("POST", f"{keystone}/v3/roles", json={"role": {"name": name}})["role"]["id"]


def project_and_user(
    admin: Api, keystone: str, project: str, user: str, password: str, roles=("member",)
) -> None:
    """A project, a user of the Default domain, and the user's roles in the project."""
    project_id = admin.call(
        "POST",
        f"{keystone}/v3/projects",
        json={"project": {"name": project, "domain_id": "default"}},
    )["project"]["id"]
    user_id = admin.call(
        "POST",
        f"{keystone}/v3/users",
        json={"user": {"name": user, "password": password, "domain_id": "default"}},
    )["user"]["id"]
    for name in roles:
        role_id = role(admin, keystone, name)
        admin.call("PUT", f"{keystone}/v3/projects/{project_id}/users/{user_id}/roles/{role_id}")
