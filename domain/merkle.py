"""RFC 9162 §2.1 Merkle trees: hashes, the compact range, proofs and their verification (pure).

Leaves are indexed from 0; a tree of size n holds leaves 0..n-1 (the ledger's global positions
1..n). A *perfect node* `(level, index)` is the root of the complete subtree over leaves
`index·2^level … (index+1)·2^level - 1`; every hash a proof needs is either a perfect node or the
hash of a right-border range that folds a few perfect nodes, so a store that keeps the perfect
nodes answers any proof in O(log n) reads (`inclusion_ranges`, `consistency_ranges`,
`range_nodes`, `range_hash`).

Verification follows RFC 9162 §2.1.3.2 and §2.1.4.2 word for word; the same proofs verify with
`github.com/transparency-dev/merkle/proof` (the interop test checks that).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

Node = tuple[int, int]  # (level, index) of a perfect subtree
Range = tuple[int, int]  # leaves [start, end)


class ProofError(ValueError):
    """A proof that does not verify, or a request for one that cannot exist."""


def leaf_hash(data: bytes) -> bytes:
    """SHA-256(0x00 ‖ leaf input)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 ‖ left ‖ right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_of(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH over leaf hashes (the recursive definition, for checks and small trees)."""
    n = len(leaf_hashes)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaf_hashes[0]
    k = _split(n)
    return node_hash(root_of(leaf_hashes[:k]), root_of(leaf_hashes[k:]))


@dataclass
class CompactRange:
    """The right edge of a growing tree: one perfect node per set bit of `size`.

    `append` returns every perfect node that became complete, so a store keeps them all by
    writing what it returns; `root()` folds the edge (RFC 9162's MTH of the whole tree).
    """

    size: int = 0
    edge: list[bytes] = field(default_factory=list)  # highest level first

    @classmethod
    def from_nodes(cls, size: int, get: Mapping[Node, bytes]) -> CompactRange:
        return cls(size, [get[node] for node in edge_nodes(size)])

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Add one leaf hash; the new perfect nodes as (level, index, hash), the leaf first."""
        index = self.size
        made = [(0, index, leaf)]
        h = leaf
        level = 0
        while index & 1:
            h = node_hash(self.edge.pop(), h)
            index >>= 1
            level += 1
            made.append((level, index, h))
        self.edge.append(h)
        self.size += 1
        return made

    def extend(self, leaves: Iterable[bytes]) -> list[tuple[int, int, bytes]]:
        out: list[tuple[int, int, bytes]] = []
        for leaf in leaves:
            out.extend(self.append(leaf))
        return out

    def root(self) -> bytes:
        if not self.edge:
            return EMPTY_ROOT
        h = self.edge[-1]
        for left in reversed(self.edge[:-1]):
            h = node_hash(left, h)
        return h


def edge_nodes(size: int) -> list[Node]:
    """The perfect nodes that make up a tree of `size` leaves, left to right."""
    out: list[Node] = []
    start = 0
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            out.append((level, start >> level))
            start += 1 << level
    return out


def range_nodes(start: int, end: int) -> list[Node]:
    """The perfect nodes whose fold is MTH(D[start:end]) for the ranges proofs use.

    Proof ranges start at a multiple of a power of two at least as large as the range, so they
    decompose like a tree of `end - start` leaves shifted by `start`.
    """
    n = end - start
    if n <= 0:
        raise ProofError(f"empty range {start}..{end}")
    out: list[Node] = []
    offset = start
    for level in range(n.bit_length() - 1, -1, -1):
        if n >> level & 1:
            if offset % (1 << level):
                raise ProofError(f"range {start}..{end} is not aligned")
            out.append((level, offset >> level))
            offset += 1 << level
    return out


def range_hash(start: int, end: int, get: Mapping[Node, bytes]) -> bytes:
    """MTH(D[start:end]) from stored perfect nodes."""
    hashes = [get[node] for node in range_nodes(start, end)]
    h = hashes[-1]
    for left in reversed(hashes[:-1]):
        h = node_hash(left, h)
    return h


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """RFC 9162 §2.1.3.1 PATH(m, D[n]) as leaf ranges, bottom-up."""
    if not 0 <= index < size:
        raise ProofError(f"position {index + 1} is not in a tree of size {size}")
    out: list[Range] = []
    lo, hi, m = 0, size, index
    while hi - lo > 1:
        k = _split(hi - lo)
        if m < k:
            out.append((lo + k, hi))
            hi = lo + k
        else:
            out.append((lo, lo + k))
            lo, m = lo + k, m - k
    out.reverse()
    return out


def consistency_ranges(old: int, new: int) -> list[Range]:
    """RFC 9162 §2.1.4.1 PROOF(m, D[n]) as leaf ranges, in proof order (empty when m is 0 or n)."""
    if not 0 <= old <= new:
        raise ProofError(f"no consistency proof from size {old} to size {new}")
    if old == 0 or old == new:
        return []
    out: list[Range] = []
    lo, hi, m, whole = 0, new, old, True
    while True:
        n = hi - lo
        if m == n:
            if not whole:
                out.append((lo, hi))
            break
        k = _split(n)
        if m <= k:
            out.append((lo + k, hi))
            hi = lo + k
        else:
            out.append((lo, lo + k))
            lo, m, whole = lo + k, m - k, False
    out.reverse()
    return out


def nodes_for(ranges: Iterable[Range]) -> set[Node]:
    """Every perfect node the ranges need (one read from a node store)."""
    need: set[Node] = set()
    for start, end in ranges:
        need.update(range_nodes(start, end))
    return need


def hashes_for(ranges: Sequence[Range], get: Mapping[Node, bytes]) -> list[bytes]:
    return [range_hash(start, end, get) for start, end in ranges]


def inclusion_proof(index: int, size: int, get: Callable[[set[Node]], Mapping[Node, bytes]]) -> list[bytes]:
    """The audit path of leaf `index` in the tree of `size`, reading nodes with `get`."""
    ranges = inclusion_ranges(index, size)
    return hashes_for(ranges, get(nodes_for(ranges)))


def consistency_proof(old: int, new: int, get: Callable[[set[Node]], Mapping[Node, bytes]]) -> list[bytes]:
    ranges = consistency_ranges(old, new)
    return hashes_for(ranges, get(nodes_for(ranges)))


def root_at(size: int, get: Callable[[set[Node]], Mapping[Node, bytes]]) -> bytes:
    """The root of the tree of the first `size` leaves from stored nodes."""
    if size == 0:
        return EMPTY_ROOT
    return range_hash(0, size, get(set(edge_nodes(size))))


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> None:
    """RFC 9162 §2.1.3.2; raises ProofError when the proof does not verify."""
    if not 0 <= index < size:
        raise ProofError(f"position {index + 1} is not in a tree of size {size}")
    _sizes(proof)
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ProofError("the inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the inclusion proof is too short")
    if r != root:
        raise ProofError(f"the inclusion proof of position {index + 1} does not lead to the root")


def verify_consistency(old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> None:
    """RFC 9162 §2.1.4.2 (plus its edge cases: from 0 any tree, m == n the same root)."""
    if not 0 <= old <= new:
        raise ProofError(f"size {new} is smaller than {old}")
    _sizes(proof)
    if old == new:
        if proof:
            raise ProofError("a consistency proof between equal sizes must be empty")
        if old_root != new_root:
            raise ProofError(f"two different roots for size {old}")
        return
    if old == 0:
        if proof:
            raise ProofError("a consistency proof from size 0 must be empty")
        return
    path = list(proof)
    if old & (old - 1) == 0:
        path.insert(0, old_root)
    if not path:
        raise ProofError("the consistency proof is empty")
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("the consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the consistency proof is too short")
    if fr != old_root:
        raise ProofError(f"the consistency proof does not lead to the root of size {old}")
    if sr != new_root:
        raise ProofError(f"the consistency proof does not lead to the root of size {new}")


def _sizes(proof: Sequence[bytes]) -> None:
    if any(len(h) != HASH_SIZE for h in proof):
        raise ProofError("a proof hash is not 32 bytes")
