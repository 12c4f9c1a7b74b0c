"""RFC 9162 §2.1: tree hash, inclusion and consistency proofs over stored perfect nodes."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain import merkle as m

EDGE_SIZES = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 64, 65]


def leaves(n: int) -> list[bytes]:
    return [m.leaf_hash(hashlib.sha256(str(i).encode()).digest()) for i in range(n)]


def store(n: int) -> tuple[dict[m.Node, bytes], m.CompactRange]:
    cr = m.CompactRange()
    nodes = {(lv, ix): h for lv, ix, h in cr.extend(leaves(n))}
    return nodes, cr


def getter(nodes: dict[m.Node, bytes]):  # type: ignore[no-untyped-def]
    return lambda need: {k: nodes[k] for k in need}


def rfc_path(i: int, d: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]) exactly as RFC 9162 §2.1.3.1 writes it."""
    n = len(d)
    if n == 1:
        return []
    k = 1 << ((n - 1).bit_length() - 1)
    if i < k:
        return rfc_path(i, d[:k]) + [m.root_of(d[k:])]
    return rfc_path(i - k, d[k:]) + [m.root_of(d[:k])]


def rfc_subproof(i: int, d: list[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if i == n:
        return [] if b else [m.root_of(d)]
    k = 1 << ((n - 1).bit_length() - 1)
    if i <= k:
        return rfc_subproof(i, d[:k], b) + [m.root_of(d[k:])]
    return rfc_subproof(i - k, d[k:], False) + [m.root_of(d[:k])]


def test_known_vectors() -> None:
    assert m.EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    # RFC 6962 test vector: leaf "" -> 6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d
    assert m.leaf_hash(b"").hex() == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"


@pytest.mark.parametrize("n", EDGE_SIZES)
def test_incremental_root_equals_mth(n: int) -> None:
    nodes, cr = store(n)
    assert cr.root() == m.root_of(leaves(n))
    for size in range(1, n + 1):
        assert m.root_at(size, getter(nodes)) == m.root_of(leaves(size))


@pytest.mark.parametrize("n", EDGE_SIZES)
def test_inclusion_edges_first_and_last_leaf(n: int) -> None:
    nodes, cr = store(n)
    d = leaves(n)
    for i in {0, n - 1, n // 2}:
        proof = m.inclusion_proof(i, n, getter(nodes))
        assert proof == rfc_path(i, d)
        m.verify_inclusion(d[i], i, n, proof, cr.root())
        with pytest.raises(m.ProofError):
            m.verify_inclusion(m.leaf_hash(b"x"), i, n, proof, cr.root())
        if proof:
            with pytest.raises(m.ProofError):
                m.verify_inclusion(d[i], i, n, proof[:-1], cr.root())
        with pytest.raises(m.ProofError):
            m.verify_inclusion(d[i], i, n, [*proof, cr.root()], cr.root())


@given(st.integers(1, 300).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n - 1))))
@settings(max_examples=300, deadline=None)
def test_inclusion_property(case: tuple[int, int]) -> None:
    n, i = case
    nodes, cr = store(n)
    proof = m.inclusion_proof(i, n, getter(nodes))
    assert proof == rfc_path(i, leaves(n))
    m.verify_inclusion(leaves(n)[i], i, n, proof, cr.root())
    if i + 1 < n:
        with pytest.raises(m.ProofError):
            m.verify_inclusion(leaves(n)[i], i + 1, n, proof, cr.root())


@given(st.integers(1, 300).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
@settings(max_examples=300, deadline=None)
def test_consistency_property(case: tuple[int, int]) -> None:
    old, new = case
    nodes, cr = store(new)
    d = leaves(new)
    proof = m.consistency_proof(old, new, getter(nodes))
    if 0 < old < new:
        assert proof == rfc_subproof(old, d, True)
    old_root = m.root_of(d[:old])
    m.verify_consistency(old, new, old_root, cr.root(), proof)
    if 0 < old:
        with pytest.raises(m.ProofError):
            m.verify_consistency(old, new, m.leaf_hash(b"forged"), cr.root(), proof)
    if 0 < old < new:
        with pytest.raises(m.ProofError):
            m.verify_consistency(old, new, old_root, m.leaf_hash(b"forged"), proof)
        with pytest.raises(m.ProofError):
            m.verify_consistency(old, new, old_root, cr.root(), proof[:-1])


@pytest.mark.parametrize("old,new", [(1, 1), (1, 2), (2, 3), (3, 4), (4, 8), (8, 9), (1, 9), (7, 8), (16, 17), (5, 33)])
def test_consistency_edges(old: int, new: int) -> None:
    nodes, cr = store(new)
    proof = m.consistency_proof(old, new, getter(nodes))
    m.verify_consistency(old, new, m.root_of(leaves(old)), cr.root(), proof)


def test_rewritten_tree_is_inconsistent() -> None:
    d = leaves(20)
    forged = list(d)
    forged[5] = m.leaf_hash(b"rewritten")
    nodes, cr = store(0)
    fnodes = {(lv, ix): h for lv, ix, h in m.CompactRange().extend(forged)}
    proof = m.consistency_proof(10, 20, getter(fnodes))
    with pytest.raises(m.ProofError):
        m.verify_consistency(10, 20, m.root_of(d[:10]), m.root_of(forged), proof)


def test_bad_requests() -> None:
    with pytest.raises(m.ProofError):
        m.inclusion_ranges(5, 5)
    with pytest.raises(m.ProofError):
        m.consistency_ranges(6, 5)
    with pytest.raises(m.ProofError):
        m.verify_inclusion(b"\0" * 32, 0, 2, [b"short"], b"\0" * 32)
    with pytest.raises(m.ProofError):
        m.verify_consistency(0, 3, m.EMPTY_ROOT, b"\0" * 32, [b"\0" * 32])
    with pytest.raises(m.ProofError):
        m.verify_consistency(3, 3, b"\1" * 32, b"\0" * 32, [])
