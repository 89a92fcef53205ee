"""adapters.cluster_write: which writes get reworded, and how each kind of failure is said (the e2e fault tests run them for real)."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from azure.cli.core.azclierror import (
    AzureConnectionError,
    AzureInternalError,
    AzureResponseError,
)
from azure.core.exceptions import (
    HttpResponseError,
    IncompleteReadError,
    ServiceRequestError,
)

from azext_aksproxy.adapters.azure_reads import error_text
from azext_aksproxy.adapters.cluster_write import (
    ClusterWrite,
    explained_cluster_write,
    proxy_write_requested,
)

PARAMS = {"resource_group_name": "rg1", "name": "c1", "http_proxy_config": "p.json"}


def http_error(status: int, code: str, message: str) -> HttpResponseError:
    ex = HttpResponseError(message=f"({code}) {message}")
    ex.status_code = status
    ex.error = SimpleNamespace(code=code, message=message)
    return ex


@pytest.mark.parametrize("verb, params, expected", [
    ("update", {"http_proxy_config": "p.json"}, True),
    ("update", {"disable_http_proxy": True}, True),
    ("update", {"enable_http_proxy": True}, True),
    ("update", {"tags": {"a": "b"}}, False),
    ("create", {"http_proxy_config": "p.json"}, True),
    ("create", {"enable_http_proxy": True}, False),  # not a create flag
    ("create", {}, False),
])
def test_only_writes_that_change_the_proxy_are_reworded(verb, params, expected):
    assert proxy_write_requested(verb, params) is expected


def test_other_writes_keep_core_errors_untouched():
    original = http_error(409, "OperationNotAllowed", "busy")
    with pytest.raises(HttpResponseError) as raised, explained_cluster_write(None, "update", {"tags": {}}) as write:
        assert write is None
        raise original
    assert raised.value is original


def test_a_busy_cluster_says_nothing_changed_and_how_to_wait():
    with pytest.raises(AzureResponseError) as raised, explained_cluster_write(None, "update", PARAMS):
        raise http_error(409, "OperationNotAllowed", "Operation is not allowed: an update is in progress.")
    text = str(raised.value)
    assert text.startswith("Cluster c1 in resource group rg1 is busy with another operation, so AKS refused the "
                           "update: (OperationNotAllowed) Operation is not allowed: an update is in progress.")
    assert "Nothing was changed" in text and "`az aks wait -g rg1 -n c1 --updated`" in text


def test_a_server_error_left_after_retries_is_an_internal_error_naming_the_operation():
    with pytest.raises(AzureInternalError) as raised, explained_cluster_write(None, "create", PARAMS):
        raise http_error(503, "ServiceUnavailable", "try later")
    assert "Azure kept failing the creation of cluster c1 in resource group rg1 after az's retries: " \
           "(ServiceUnavailable) try later (HTTP 503)" in str(raised.value)


def test_a_client_error_other_than_409_is_core_s_own():
    original = http_error(400, "HTTPProxyWrongUrlError", "The url is not correct")
    with pytest.raises(HttpResponseError) as raised, explained_cluster_write(None, "update", PARAMS):
        raise original
    assert raised.value is original


@pytest.mark.parametrize("error, words", [
    (IncompleteReadError("Connection broken: IncompleteRead(2106 bytes read)"), "the response was cut off half-way"),
    (ServiceRequestError("Connection refused"), "a request could not be sent (connection refused, reset or timed out)"),
])
def test_a_broken_connection_says_the_request_may_have_landed_without_the_low_level_text(error, words):
    with pytest.raises(AzureConnectionError) as raised, explained_cluster_write(None, "update", PARAMS):
        raise error
    text = str(raised.value)
    assert f"The connection to Azure broke during the update of cluster c1 in resource group rg1: {words}." in text
    assert "Azure may have received the request" in text and "IncompleteRead" not in text


@pytest.mark.parametrize("verb, way_back", [
    ("update", "run this command again: an update sends the whole cluster"),
    ("create", "`az aks update -g rg1 -n c1 --http-proxy-config FILE`"),
])
def test_an_operation_that_ended_badly_names_its_status_and_the_way_back(verb, way_back):
    text = str(ClusterWrite(None, verb, "rg1", "c1").ended("Canceled", http_error(200, "Canceled", "by user")))
    noun = "update" if verb == "update" else "creation"
    assert text.startswith(f"The {noun} of cluster c1 in resource group rg1 ended Canceled: (Canceled) by user")
    assert way_back in text


def test_credentials_in_a_service_message_are_masked():
    ex = http_error(400, "HTTPProxyWrongUrlError", "The url http://alice:S3cret@proxy:3128/ is not correct")
    assert error_text(ex) == "(HTTPProxyWrongUrlError) The url http://***@proxy:3128/ is not correct"
