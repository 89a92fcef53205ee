"""Just enough Microsoft.Authorization for `az aks create --vnet-subnet-id`: role definitions by name, role
assignments listed/created at any scope (az grants the cluster identity Network Contributor on the subnet)."""
from __future__ import annotations

from .state import SUBSCRIPTION_ID, Store
from .web import Request, Response, Router, error

AUTHZ = "/providers/Microsoft.Authorization"
BUILTIN_ROLES = {  # name -> role definition GUID (Azure's built-in ids)
    "Network Contributor": "4d97b98b-1d4f-4787-a291-c67834d212e7",
    "Contributor": "b24988ac-6180-42a0-ab88-20f7382dd24c",
    "Reader": "acdd72a7-3385-48ef-bd42-f606fba81ae7",
    "AcrPull": "7f951dda-4ed3-4680-a7ca-43fe172d538d",
    "Monitoring Metrics Publisher": "3913510d-42f4-4e42-8a64-420c390055eb",
}


def _role_definition(scope: str, role: str, guid: str) -> dict:
    return {"id": f"{scope}{AUTHZ}/roleDefinitions/{guid}", "name": guid,
            "type": "Microsoft.Authorization/roleDefinitions",
            "properties": {"roleName": role, "type": "BuiltInRole", "description": f"{role} (emulated)",
                           "assignableScopes": ["/"], "permissions": [{"actions": ["*"], "notActions": []}]}}


def register(router: Router, store: Store) -> None:
    def definitions(req: Request) -> Response:
        scope = req.params["scope"]
        wanted = req.query.get("$filter", "")
        roles = [(r, g) for r, g in BUILTIN_ROLES.items() if not wanted or f"'{r.lower()}'" in wanted.lower()]
        return Response(200, {"value": [_role_definition(scope, r, g) for r, g in roles]})

    def definition(req: Request) -> Response:
        for role, guid in BUILTIN_ROLES.items():
            if guid == req.params["rid"].lower():
                return Response(200, _role_definition(req.params["scope"], role, guid))
        return error(404, "RoleDefinitionDoesNotExist", "The specified role definition does not exist.")

    def assignments(req: Request) -> Response:
        scope = req.params["scope"].lower().rstrip("/") + "/"
        found = [a for a in store.role_assignments.values()  # atScope(): at the scope or above it
                 if scope.startswith(a["properties"]["scope"].lower().rstrip("/") + "/")]
        return Response(200, {"value": found})

    def assign(req: Request) -> Response:
        try:
            body = req.json() or {}
        except ValueError:
            body = {}
        props = body.get("properties") or {}
        if not props.get("roleDefinitionId") or not props.get("principalId"):
            return error(400, "InvalidRoleAssignmentRequest", "roleDefinitionId and principalId are required.")
        name = req.params["name"].lower()
        created = name not in store.role_assignments
        scope = req.params["scope"]
        store.role_assignments[name] = {
            "id": f"{scope}{AUTHZ}/roleAssignments/{name}", "name": name,
            "type": "Microsoft.Authorization/roleAssignments",
            "properties": {"roleDefinitionId": props["roleDefinitionId"], "principalId": props["principalId"],
                           "principalType": props.get("principalType", "ServicePrincipal"), "scope": scope,
                           "createdBy": SUBSCRIPTION_ID}}
        return Response(201 if created else 200, store.role_assignments[name])

    router.add("GET", "{scope*}" + AUTHZ + "/roleDefinitions", definitions)
    router.add("GET", "{scope*}" + AUTHZ + "/roleDefinitions/{rid}", definition)
    router.add("GET", "{scope*}" + AUTHZ + "/roleAssignments", assignments)
    router.add("PUT", "{scope*}" + AUTHZ + "/roleAssignments/{name}", assign)
