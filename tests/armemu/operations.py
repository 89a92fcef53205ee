"""Long-running operations: the LRO headers on writes, operation status and operation results, 409 conflicts."""
from __future__ import annotations

from .state import SUBSCRIPTION_ID, Operation, Store
from .web import Request, Response, Router, arm_time, error

OPS_API = "2016-03-30"
_BASE = "/subscriptions/{sub}/providers/Microsoft.ContainerService/locations/{loc}"
_DESCRIPTIONS = {
    "create": "create managed cluster", "update": "update managed cluster", "delete": "delete managed cluster",
    "upgradeNodeImageVersion": "upgrade node image version agent pool", "agentPoolPut": "put agent pool",
    "agentPoolDelete": "delete agent pool",
}


def _url(req: Request, op: Operation, leaf: str) -> str:
    return (f"{req.base_url}/subscriptions/{SUBSCRIPTION_ID}/providers/Microsoft.ContainerService/locations/"
            f"{op.location}/{leaf}/{op.id}?api-version={OPS_API}")


def lro_headers(store: Store, req: Request, op: Operation, location: bool = False) -> dict:
    """Azure-AsyncOperation (+ Location for POST/DELETE) pointing back at this emulator, and Retry-After."""
    headers = {"Azure-AsyncOperation": _url(req, op, "operations"),
               "Retry-After": str(int(store.config["retry_after"]))}
    if location:
        headers["Location"] = _url(req, op, "operationresults")
    return headers


def page(store: Store, req: Request, items: list) -> Response:
    """A pageable list: everything in one page, or `page_size` items per page linked by nextLink."""
    size = int(store.config["page_size"])
    if size <= 0:
        return Response(200, {"value": items})
    start = int(req.query.get("$skiptoken") or 0)
    body: dict = {"value": items[start:start + size]}
    if start + size < len(items):
        query = "&".join(f"{k}={v}" for k, v in req.query.items() if k != "$skiptoken")
        body["nextLink"] = f"{req.base_url}{req.path}?{query}&$skiptoken={start + size}"
    return Response(200, body)


def conflict(op: Operation) -> Response:
    what = _DESCRIPTIONS.get(op.kind, op.kind)
    target = f"agent pool '{op.pool}'" if op.pool else "managed cluster"
    return error(409, "OperationNotAllowed",
                 f"Operation is not allowed because there's an in progress {what} operation ({op.id}) started at "
                 f"{arm_time(op.start_wall)} on the {target}. Please wait for it to finish before starting a new "
                 "operation. See https://aka.ms/aks-pending-operation for more details")


def register(router: Router, store: Store) -> None:
    def lookup(req: Request):
        op = store.operations.get(req.params["opid"].lower())
        if op is None or op.location != req.params["loc"].replace(" ", "").lower():
            return None, error(404, "NotFound", f"Operation {req.params['opid']} not found.")
        return op, None

    def status(req: Request) -> Response:
        op, err = lookup(req)
        if err:
            return err
        headers = {"Retry-After": str(int(store.config["retry_after"]))} if op.status == "InProgress" else {}
        return Response(200, op.status_body(), headers)

    def result(req: Request) -> Response:
        op, err = lookup(req)
        if err:
            return err
        if op.status == "InProgress":
            return Response(202, None, {"Location": _url(req, op, "operationresults"),
                                        "Retry-After": str(int(store.config["retry_after"]))})
        if op.status == "Succeeded":
            return Response(204)
        code = (op.error or {}).get("code", "OperationFailed")
        return error(400, code, (op.error or {}).get("message", f"The operation {op.status.lower()}."))

    router.add("GET", _BASE + "/operations/{opid}", status)
    router.add("GET", _BASE + "/operationresults/{opid}", result)
