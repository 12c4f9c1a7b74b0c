"""The read side: the joint case view, governance metrics and evaluation figures (contract
`projections.md`) as pure folds, the projection store, and the queries on top of them."""

from projections.caseview import case_view

__all__ = ["case_view"]
