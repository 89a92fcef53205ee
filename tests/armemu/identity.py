"""Managed-identity token endpoint (App Service style, plain HTTP) and the cloud metadata document."""
from __future__ import annotations

import base64
import json
import time

from .state import SUBSCRIPTION_ID, TENANT_ID
from .web import Request, Response, error

PRINCIPAL_ID = "9f2a4c1e-0000-4000-8000-00000000a11d"
CLIENT_ID = "5b1e7d3c-0000-4000-8000-00000000c11e"
MI_RESOURCE_ID = (f"/subscriptions/{SUBSCRIPTION_ID}/resourcegroups/emulator/providers/"
                  "Microsoft.ManagedIdentity/userAssignedIdentities/aksproxy-emulator")
TOKEN_LIFETIME = 24 * 3600


def _b64url(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).rstrip(b"=").decode()


def make_jwt(resource: str, now: int) -> str:
    """An unsigned-looking JWT with the claims az and msal read (tid, oid, appid, ...); nobody verifies it."""
    header = {"typ": "JWT", "alg": "RS256", "kid": "armemu"}
    claims = {"aud": resource, "iss": f"https://sts.windows.net/{TENANT_ID}/", "iat": now, "nbf": now,
              "exp": now + TOKEN_LIFETIME, "tid": TENANT_ID, "oid": PRINCIPAL_ID, "sub": PRINCIPAL_ID,
              "appid": CLIENT_ID, "appidacr": "2", "idtyp": "app", "idp": f"https://sts.windows.net/{TENANT_ID}/",
              "xms_mirid": MI_RESOURCE_ID, "ver": "1.0"}
    return f"{_b64url(header)}.{_b64url(claims)}.{base64.urlsafe_b64encode(b'armemu').rstrip(b'=').decode()}"


def token(req: Request) -> Response:
    """GET <IDENTITY_ENDPOINT>?api-version=2019-08-01&resource=... with the X-IDENTITY-HEADER header."""
    resource = req.query.get("resource") or req.query.get("scope", "").removesuffix("/.default")
    if not resource:
        return error(400, "invalid_request", "Required query variable 'resource' is missing")
    if not req.headers.get("x-identity-header") and not req.headers.get("metadata"):
        return error(400, "invalid_request", "Required header X-IDENTITY-HEADER is missing")
    now = int(time.time())
    return Response(200, {"access_token": make_jwt(resource, now), "expires_on": str(now + TOKEN_LIFETIME),
                          "resource": resource, "token_type": "Bearer", "client_id": CLIENT_ID})


def metadata(base_url: str) -> dict:
    """GET /metadata/endpoints?api-version=2022-09-01 for a cloud whose ARM (and login endpoint) is this emulator."""
    arm = base_url.rstrip("/") + "/"
    return {
        "name": "AksproxyEmulator",
        "portal": "https://portal.azure.com",
        "resourceManager": arm,
        "authentication": {"loginEndpoint": arm, "audiences": ["https://management.core.windows.net/",
                                                              "https://management.azure.com/"],
                           "tenant": "common", "identityProvider": "AAD"},
        "media": "https://rest.media.azure.net",
        "graphAudience": "https://graph.windows.net/",
        "graph": "https://graph.windows.net/",
        "batch": "https://batch.core.windows.net/",
        "activeDirectoryDataLake": "https://datalake.azure.net/",
        "sqlManagement": "https://management.core.windows.net:8443/",
        "gallery": "https://gallery.azure.com/",
        "microsoftGraphResourceId": "https://graph.microsoft.com/",
        "appInsightsResourceId": "https://api.applicationinsights.io",
        "appInsightsTelemetryChannelResourceId": "https://dc.applicationinsights.azure.com/v2/track",
        "attestationResourceId": "https://attest.azure.net",
        "synapseAnalyticsResourceId": "https://dev.azuresynapse.net",
        "logAnalyticsResourceId": "https://api.loganalytics.io",
        "ossrDbmsResourceId": "https://ossrdbms-aad.database.windows.net",
        "suffixes": {"acrLoginServer": "azurecr.io", "sqlServerHostname": "database.windows.net",
                     "keyVaultDns": "vault.azure.net", "storage": "core.windows.net",
                     "azureFrontDoorEndpointSuffix": "azurefd.net", "storageSyncEndpointSuffix": "afs.azure.net",
                     "mhsmDns": "managedhsm.azure.net", "mysqlServerEndpoint": "mysql.database.azure.com",
                     "postgresqlServerEndpoint": "postgres.database.azure.com",
                     "mariadbServerEndpoint": "mariadb.database.azure.com",
                     "synapseAnalytics": "dev.azuresynapse.net", "attestationEndpoint": "attest.azure.net"},
    }
