"""The log's tree is kept incrementally in the append's transaction and equals the tree rebuilt from the log."""

from __future__ import annotations

from pathlib import Path

from domain import merkle
from ledger.bootstrap import Ledger
from ledger.tree import TREE, LogTree
from tests.domain.support import open_test_ledger
from tests.trust.support import history, rebuilt_leaves, rebuilt_root


def check_tree(ledger: Ledger) -> None:
    leaves = rebuilt_leaves(ledger)
    tree = ledger.tree
    assert tree.size() == len(leaves) == ledger.log.max_position()
    assert tree.root(len(leaves)) == merkle.root_of(leaves)
    for size in {1, 2, 3, len(leaves) // 2, len(leaves)}:
        root = merkle.root_of(leaves[:size])
        assert tree.root(size) == root
        for i in {0, size - 1}:
            merkle.verify_inclusion(leaves[i], i, size, tree.inclusion(i, size), root)
        merkle.verify_consistency(size, len(leaves), root, tree.root(len(leaves)), tree.consistency(size, len(leaves)))


def test_sqlite_tree_grows_with_appends(ledger: Ledger) -> None:
    history(ledger, 7)
    check_tree(ledger)
    history(ledger, 5, start=7)
    check_tree(ledger)
    assert ledger.tree.indices_of([1, 2, 36]) == [0, 1, 35]


def test_sqlite_store_without_tree_catches_up(tmp_path: Path) -> None:
    ledger = open_test_ledger(tmp_path)
    history(ledger, 4)
    with ledger.app.recorder.datastore.transaction(commit=True) as c:  # a store from before the tree
        c.execute(f"DELETE FROM {TREE}")
        c.execute("DELETE FROM ledger_tree_head")
    ledger.close()
    ledger = open_test_ledger(tmp_path)
    try:
        check_tree(ledger)
        history(ledger, 2, start=4)
        check_tree(ledger)
    finally:
        ledger.close()


def test_rejected_batch_leaves_no_leaves(ledger: Ledger) -> None:
    subjects = history(ledger, 2)
    before = ledger.tree.head()
    from tests import factories as f

    bad = f.receipt(subjects[0], "C-unknown")  # a rule rejection: nothing stored
    ledger.service.append([bad], "IMG")
    assert ledger.tree.head() == before
    assert ledger.tree.root(before[0]) == rebuilt_root(ledger)
    assert isinstance(ledger.tree, LogTree)
