"""/networks: the Keras manifests (read-only, from the committed JSON: no TensorFlow in
this Lambda) and network graphs (CRUD, validated on every save, and validate alone)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from sluice.api.dependencies import GraphId, graph_repository
from sluice.api.errors import ERROR_RESPONSES, documented
from sluice.api.responses import json_response
from sluice.auth.identity import current_owner
from sluice.config import settings
from sluice.networks import manifests, service
from sluice.networks.compile_models import CompileResult
from sluice.networks.graph_models import Graph, GraphBody, GraphCheck, GraphPage, GraphPatch
from sluice.networks.manifest_models import Manifest, ManifestEntry, ManifestKind

router = APIGatewayRouter()

EntryName = Annotated[
    str,
    Path(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,99}$", description="A name or one of its aliases."),
]
INVALID_GRAPH = "The graph breaks validation rules: one entry in details per problem"
REFUSED = (
    "The graph breaks validation rules (invalid_graph), or Keras refused it (keras_error, "
    "with Keras's message)"
)
UNAVAILABLE = "The TensorFlow function failed to answer"


def _manifest_routes(kind: ManifestKind) -> None:
    """GET /networks/<kind> and /networks/<kind>/<name>: fixed paths per kind, so that no
    template of theirs can take /networks/graphs/<id>."""
    label = kind.value

    def listing(
        category: Annotated[str | None, Query(max_length=100)] = None,
    ) -> Manifest:
        manifest = manifests.load(kind)
        if category is None:
            return manifest
        entries = [entry for entry in manifest.entries if category in entry.categories]
        return manifest.model_copy(update={"entries": entries})

    def one(name: EntryName) -> ManifestEntry:
        return manifests.entry(kind, name)

    listing.__doc__ = (
        f"Every Keras {label} entry a canvas may use, with its parameters (default, "
        "required, type, allowed values, range); ``category`` keeps one category's."
    )
    one.__doc__ = f"One {label} entry, by its name or an alias; 404 for an unknown name."
    register: Callable[..., Callable[..., object]] = router.get
    register(
        f"/networks/{label}",
        summary=f"List Keras {label}",
        operation_id=f"list_{label}",
        responses=ERROR_RESPONSES,
    )(listing)
    register(
        f"/networks/{label}/<name>",
        summary=f"Get one of the Keras {label}",
        operation_id=f"get_{label}",
        responses=ERROR_RESPONSES,
    )(one)


for _kind in ManifestKind:
    _manifest_routes(_kind)


@router.post(
    "/networks/graphs",
    summary="Create a graph",
    responses=documented({201: "Created", 422: INVALID_GRAPH}, json_body=True),
)
def create_graph(body: Annotated[GraphBody, Body()]) -> Response[Graph]:
    """Validate and store a graph of layer nodes and edges."""
    graph = service.create_graph(graph_repository(), current_owner(router), body)
    return json_response(201, graph)


@router.get("/networks/graphs", summary="List graphs", responses=ERROR_RESPONSES)
def list_graphs(
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    next_token: Annotated[str | None, Query()] = None,
) -> GraphPage:
    """The caller's graphs, a page at a time."""
    items, token = graph_repository().list(current_owner(router), limit, next_token)
    return GraphPage(items=items, next_token=token)


@router.post(
    "/networks/graphs/validate",
    summary="Validate a graph",
    responses=documented({200: "Valid", 422: INVALID_GRAPH}, json_body=True),
)
def validate_graph(body: Annotated[GraphBody, Body()]) -> GraphCheck:
    """Check a graph without storing it: its nodes in topological order, inputs, outputs
    and the shapes known without TensorFlow, or 422 naming every problem."""
    return service.validate_graph(body)


@router.get("/networks/graphs/<graph_id>", summary="Get a graph", responses=ERROR_RESPONSES)
def get_graph(graph_id: GraphId) -> Graph:
    """One of the caller's graphs."""
    return graph_repository().get(current_owner(router), graph_id)


@router.put(
    "/networks/graphs/<graph_id>",
    summary="Replace a graph",
    responses=documented({422: INVALID_GRAPH}, json_body=True),
)
def replace_graph(graph_id: GraphId, body: Annotated[GraphBody, Body()]) -> Graph:
    """Store ``body`` in place of the graph, once it validates."""
    return service.replace_graph(graph_repository(), current_owner(router), graph_id, body)


@router.patch(
    "/networks/graphs/<graph_id>",
    summary="Update a graph",
    responses=documented({422: INVALID_GRAPH}, json_body=True),
)
def patch_graph(graph_id: GraphId, body: Annotated[GraphPatch, Body()]) -> Graph:
    """Change the name, framework, nodes or edges; the result must validate."""
    return service.patch_graph(graph_repository(), current_owner(router), graph_id, body)


@router.delete(
    "/networks/graphs/<graph_id>", summary="Delete a graph", responses=documented({204: "Deleted"})
)
def delete_graph(graph_id: GraphId) -> Response[str]:
    """Delete one of the caller's graphs."""
    graph_repository().delete(current_owner(router), graph_id)
    return json_response(204, "")


@router.post(
    "/networks/graphs/compile",
    summary="Compile an unsaved graph",
    responses=documented({422: REFUSED, 503: UNAVAILABLE}, json_body=True),
)
def compile_unsaved_graph(body: Annotated[GraphBody, Body()]) -> CompileResult:
    """Build the graph as a Keras functional model in the TensorFlow function: its
    summary, parameter counts, and input and output shapes per tensor."""
    return service.compile_graph(settings().networks_function, body)


@router.post(
    "/networks/graphs/<graph_id>/compile",
    summary="Compile a graph",
    responses=documented({422: REFUSED, 503: UNAVAILABLE}),
)
def compile_graph(graph_id: GraphId) -> CompileResult:
    """Compile one of the caller's graphs, as ``/networks/graphs/compile`` does."""
    return service.compile_stored(
        settings().networks_function, graph_repository(), current_owner(router), graph_id
    )
