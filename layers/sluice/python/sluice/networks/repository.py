"""Graphs in the records table, under their owner."""

from __future__ import annotations

import builtins
from typing import Any

from sluice.networks.graph_models import Graph
from sluice.store.owned_records import OwnedRecords

PREFIX = "GRAPH#"


class GraphRepository(OwnedRecords[Graph]):
    """Graphs, always addressed through their owner."""

    def __init__(self, table_name: str) -> None:
        super().__init__(table_name, "graph", PREFIX)

    def _load(self, data: dict[str, Any]) -> Graph:
        return Graph.model_validate(data)

    def create(self, owner: str, graph: Graph) -> None:
        self._put_new(owner, graph.id, graph.model_dump(mode="json"))

    def replace(self, owner: str, graph: Graph) -> Graph | None:
        """Write the graph's content over the stored one's; None when it is gone."""
        content = graph.model_dump(mode="json", include={"name", "framework", "nodes", "edges"})
        return self._update(owner, graph.id, content)

    def list(
        self, owner: str, limit: int, next_token: str | None
    ) -> tuple[builtins.list[Graph], str | None]:
        """A page of the owner's graphs."""
        return self._page(owner, limit, next_token)
