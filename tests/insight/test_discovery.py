"""Discovery: not told the number of reasons, deterministic, sensible clusters, few unclassified."""

from __future__ import annotations

from sklearn.metrics import normalized_mutual_info_score

from cxchain.insight.discovery import discover, discover_labels


def test_discovery_on_banking_sample(embedder, banking_sample) -> None:
    texts = [r["text"] for r in banking_sample]
    gold = [r["category"] for r in banking_sample]
    res = discover_labels(texts, embedder=embedder, seed=0)
    assert len(res.labels) == len(texts)
    assert 5 <= len(res.proposals) <= 40
    assert res.unclassified_share <= 0.1
    assert normalized_mutual_info_score(gold, res.labels) >= 0.6
    for p in res.proposals:
        assert p.size == len(p.member_indices) >= 1 and p.representatives and p.label
    # keywords are words of the cluster (c-TF-IDF), e.g. the PIN cluster talks about "pin"
    assert any("pin" in " ".join(p.keywords).lower() for p in res.proposals)


def test_discovery_is_deterministic(embedder, banking_sample) -> None:
    texts = [r["text"] for r in banking_sample]
    a = discover(texts, embedder=embedder, seed=0)
    b = discover(texts, embedder=embedder, seed=0)
    assert [(p.label, p.member_indices) for p in a] == [(p.label, p.member_indices) for p in b]


def test_discovery_edge_cases(embedder) -> None:
    assert discover([], embedder=embedder) == []
    res = discover_labels(["", "", "hello"], embedder=embedder)
    assert len(res.labels) == 3 and (res.labels == -1).all()
