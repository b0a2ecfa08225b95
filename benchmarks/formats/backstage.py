"""Benchmark input for the Backstage loader: one catalog file of an organisation's entities.

The file is what a catalog export looks like: per team, a group and its users, a domain
and two systems, components that depend on databases and call APIs, the APIs they
provide (one serves a model, so it becomes a deployment) and the resources they use.
Every reference resolves inside the file, a third of them across namespaces.
"""

from __future__ import annotations

import pathlib

# Entities written for one team (see _team); n entities means about n / UNIT teams.
UNIT = 20


def _entity(kind: str, name: str, spec: str, namespace: str = "default", extra: str = "") -> str:
    return (
        "apiVersion: backstage.io/v1alpha1\n"
        f"kind: {kind}\n"
        "metadata:\n"
        f"  name: {name}\n"
        f"  namespace: {namespace}\n"
        f"  description: The {name} {kind.lower()} of the benchmark catalog\n"
        "  tags: [benchmark, generated]\n"
        f"{extra}"
        f"spec:\n{spec}"
    )


def _team(t: int) -> list[str]:
    ns = ("default", "payments", "risk")[t % 3]
    team = f"team-{t}"
    owner = f"  owner: group:default/{team}\n"
    users = [
        _entity(
            "User",
            f"user-{t}-{u}",
            f"  profile:\n    displayName: User {t}.{u}\n    email: user-{t}-{u}@example.com\n"
            f"  memberOf: [{team}]\n",
        )
        for u in range(4)
    ]
    group = _entity(
        "Group",
        team,
        f"  type: team\n  profile:\n    displayName: Team {t}\n    email: {team}@example.com\n"
        f"  parent: org\n  children: []\n",
    )
    domain = _entity("Domain", f"domain-{t}", owner, ns)
    systems = [_entity("System", f"system-{t}-{s}", owner + f"  domain: domain-{t}\n", ns) for s in range(2)]
    resources = [
        _entity(
            "Resource",
            f"db-{t}-{r}",
            owner + f"  type: database\n  system: system-{t}-{r % 2}\n",
            ns,
            f"  annotations:\n    mlg.io/dataset: postgres://db-{t}.internal:5432/shop.public.table_{r}\n"
            if r < 2
            else "",
        )
        for r in range(3)
    ]
    apis = [
        _entity(
            "API",
            f"api-{t}-{a}",
            owner + f"  type: {'ai-model-server' if a == 0 else 'openapi'}\n  lifecycle: production\n"
            f"  system: system-{t}-{a % 2}\n  definition: 'openapi: 3.0.0'\n",
            ns,
            f"  annotations:\n    mlg.io/model-version: model-version:model-{t}@{t % 5 + 1}\n"
            if a == 0
            else "",
        )
        for a in range(4)
    ]
    components = [
        _entity(
            "Component",
            f"service-{t}-{c}",
            owner + f"  type: service\n  lifecycle: {('production', 'experimental')[c % 2]}\n"
            f"  system: system-{t}-{c % 2}\n"
            f"  dependsOn: ['resource:db-{t}-{c % 3}']\n"
            f"  consumesApis: [api-{t}-{(c + 1) % 4}]\n"
            + (f"  providesApis: [api-{t}-{c}]\n" if c < 4 else ""),
            ns,
            "  annotations:\n"
            f"    backstage.io/source-location: url:https://github.com/acme/service-{t}-{c}/tree/main/\n"
            "  links:\n"
            f"    - {{url: 'https://grafana.example.com/d/{t}-{c}', title: Dashboard}}\n",
        )
        for c in range(6)
    ]
    return [group, *users, domain, *systems, *resources, *apis, *components]


def make_input(n: int, folder: pathlib.Path) -> tuple[str, int]:
    """Write a catalog of about ``n`` entities to ``folder``; return its path and the entity count."""
    documents = [document for t in range(max(1, round(n / UNIT))) for document in _team(t)]
    path = folder / "catalog-info.yaml"
    path.write_text("---\n".join(documents), encoding="utf-8")
    return str(path), len(documents)
