"""ARM basics: metadata endpoints, tenants, subscriptions, resource groups, provider registration; route table."""
from __future__ import annotations

from . import (
    agentpools,
    authorization,
    clusters,
    compute,
    identity,
    network,
    operations,
    reimage,
    resources,
    runcommand,
)
from .state import SUBSCRIPTION_ID, SUBSCRIPTION_NAME, TENANT_ID, Store
from .web import Request, Response, Router, error, rg_not_found

RG = "/subscriptions/{sub}/resourcegroups/{rg}"
# paths served without a bearer token
ANONYMOUS = ("/metadata/endpoints",)


def subscription_body() -> dict:
    return {"id": f"/subscriptions/{SUBSCRIPTION_ID}", "authorizationSource": "RoleBased", "managedByTenants": [],
            "subscriptionId": SUBSCRIPTION_ID, "tenantId": TENANT_ID, "displayName": SUBSCRIPTION_NAME,
            "state": "Enabled", "subscriptionPolicies": {"locationPlacementId": "Public_2014-09-01",
                                                         "quotaId": "Internal_2014-09-01", "spendingLimit": "Off"}}


def rg_body(rg: dict) -> dict:
    body = {"id": f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{rg['name']}", "name": rg["name"],
            "type": "Microsoft.Resources/resourceGroups", "location": rg["location"],
            "properties": {"provisioningState": "Succeeded"}}
    if rg.get("tags"):
        body["tags"] = rg["tags"]
    return body


def build_router(store: Store) -> Router:
    router = Router()

    def metadata(req: Request) -> Response:
        return Response(200, identity.metadata(req.base_url))

    def tenants(req: Request) -> Response:
        return Response(200, {"value": [{"id": f"/tenants/{TENANT_ID}", "tenantId": TENANT_ID,
                                         "tenantCategory": "Home", "displayName": "Emulator tenant",
                                         "defaultDomain": "emulator.example", "domains": ["emulator.example"]}]})

    def subscriptions(req: Request) -> Response:
        return Response(200, {"value": [subscription_body()], "count": {"type": "Total", "value": 1}})

    def subscription(req: Request) -> Response:
        return resources.bad_subscription(req) or Response(200, subscription_body())

    def rg_list(req: Request) -> Response:
        err = resources.bad_subscription(req)
        return err or Response(200, {"value": [rg_body(rg) for _, rg in sorted(store.resource_groups.items())]})

    def rg_get(req: Request) -> Response:
        err = resources.bad_subscription(req)
        rg = store.resource_group(req.params["rg"])
        if err or rg is None:
            return err or rg_not_found(req.params["rg"])
        return Response(200, rg_body(rg))

    def rg_head(req: Request) -> Response:
        err = resources.bad_subscription(req)
        return Response(404 if err or store.resource_group(req.params["rg"]) is None else 204)

    def rg_put(req: Request) -> Response:
        err = resources.bad_subscription(req)
        if err:
            return err
        body, err = resources.json_body(req)
        if err:
            return err
        existing = store.resource_group(req.params["rg"])
        location = body.get("location") or (existing or {}).get("location")
        if not location:
            return error(400, "LocationRequired", "The location property is required for this definition.")
        rg, created = store.put_resource_group(req.params["rg"], location, body.get("tags"))
        return Response(201 if created else 200, rg_body(rg))

    def provider(req: Request) -> Response:
        return Response(200, {"id": f"/subscriptions/{SUBSCRIPTION_ID}/providers/Microsoft.ContainerService",
                              "namespace": "Microsoft.ContainerService", "registrationState": "Registered",
                              "registrationPolicy": "RegistrationRequired",
                              "resourceTypes": [{"resourceType": "managedClusters", "locations": ["West US 2"],
                                                 "apiVersions": ["2026-06-01", "2023-10-01"]}]})

    router.add("GET", "/metadata/endpoints", metadata)
    router.add("GET", "/tenants", tenants)
    router.add("GET", "/subscriptions", subscriptions)
    router.add("GET", "/subscriptions/{sub}", subscription)
    router.add("GET", "/subscriptions/{sub}/resourcegroups", rg_list)
    router.add("GET", RG, rg_get)
    router.add("HEAD", RG, rg_head)
    router.add("PUT", RG, rg_put)
    router.add("GET", "/subscriptions/{sub}/providers/Microsoft.ContainerService", provider)
    clusters.register(router, store)
    agentpools.register(router, store)
    operations.register(router, store)
    authorization.register(router, store)
    compute.register(router, store)
    runcommand.register(router, store)
    reimage.register(router, store)
    network.register(router, store)
    return router
