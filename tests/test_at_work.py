"""Unit tests of chapter 9's building blocks: the split, the searches, the scores,
the nested choice and the continuity of a map."""

from __future__ import annotations

import numpy as np
import pytest
from ae_blocks import (
    Autoencoder,
    brute_force_search,
    continuity,
    leave_one_class_out,
    merge_nearest,
    nearest_per_class,
    nested_choice,
    precision_at_k,
    reconstruction_errors,
)
from scipy.spatial.distance import cdist
from sklearn.manifold import trustworthiness
from sklearn.neighbors import NearestNeighbors


@pytest.fixture(scope="module")
def labelled_points():
    """Random points in 5 dimensions (no ties), with 10 labels of 30 points each."""
    rng = np.random.default_rng(0)
    points = rng.normal(size=(300, 5))
    labels = rng.permutation(np.repeat(np.arange(10), 30))
    queries = rng.normal(size=(40, 5))
    return points, labels, queries


def test_leave_one_class_out_keeps_every_other_image_and_no_held_out_one():
    labels = np.random.default_rng(1).integers(0, 10, size=1000)
    for held_out in range(10):
        kept = leave_one_class_out(labels, held_out)
        assert not np.any(labels[kept] == held_out)
        np.testing.assert_array_equal(kept, np.flatnonzero(labels != held_out))
        assert len(np.unique(kept)) == len(kept)


def test_leave_one_class_out_rejects_an_absent_class():
    with pytest.raises(ValueError, match="does not occur"):
        leave_one_class_out(np.array([0, 1, 2]), 7)


def test_nearest_per_class_stays_in_each_class(labelled_points):
    points, labels, queries = labelled_points
    distances, indices = nearest_per_class(queries, points, labels, 4)
    assert distances.shape == indices.shape == (len(queries), 10, 4)
    for label in range(10):
        assert np.all(labels[indices[:, label]] == label)
        members = np.flatnonzero(labels == label)
        expected, _ = NearestNeighbors(n_neighbors=4).fit(points[members]).kneighbors(
            queries)
        np.testing.assert_allclose(distances[:, label], expected)
    assert np.all(np.diff(distances, axis=2) >= 0), "nearest first in each class"


@pytest.mark.parametrize("held_out", [0, 3, 9])
def test_merged_lists_equal_a_search_without_the_held_out_class(
        labelled_points, held_out):
    points, labels, queries = labelled_points
    lists = nearest_per_class(queries, points, labels, 10)
    others = [label for label in range(10) if label != held_out]
    distances, indices = merge_nearest(*lists, others, 10)
    kept = np.flatnonzero(labels != held_out)
    expected_distances, found = NearestNeighbors(n_neighbors=10).fit(
        points[kept]).kneighbors(queries)
    np.testing.assert_allclose(distances, expected_distances)
    np.testing.assert_array_equal(indices, kept[found])
    assert not np.any(labels[indices] == held_out)


def test_merged_over_all_classes_is_the_plain_search(labelled_points):
    points, labels, queries = labelled_points
    lists = nearest_per_class(queries, points, labels, 10)
    distances, indices = merge_nearest(*lists, range(10), 10)
    expected_distances, expected = NearestNeighbors(n_neighbors=10).fit(
        points).kneighbors(queries)
    np.testing.assert_allclose(distances, expected_distances)
    np.testing.assert_array_equal(indices, expected)


def test_merge_nearest_and_nearest_per_class_reject_too_many_neighbours(
        labelled_points):
    points, labels, queries = labelled_points
    lists = nearest_per_class(queries, points, labels, 3)
    with pytest.raises(ValueError, match="num_neighbours"):
        merge_nearest(*lists, range(10), 5)
    with pytest.raises(ValueError, match="fewer than num_neighbours"):
        nearest_per_class(queries, points, labels, 31)


def test_nested_choice_takes_the_best_mean_over_the_other_classes():
    aucs = {"a": np.array([0.9, 0.5, 0.5]), "b": np.array([0.6, 0.7, 0.6])}
    # Class 0: over classes 1 and 2, b (0.65) beats a (0.5). Class 1: over 0 and
    # 2, a 0.7 vs b 0.6. Class 2: over 0 and 1, a 0.7 vs b 0.65.
    assert nested_choice(aucs, ["a", "b"]) == ["b", "a", "a"]
    # A single variant is chosen for every class; order breaks exact ties.
    assert nested_choice(aucs, ["b"]) == ["b"] * 3
    tied = {"a": np.full(4, 0.7), "b": np.full(4, 0.7)}
    assert nested_choice(tied, ["a", "b"]) == ["a"] * 4


def test_nested_choice_never_looks_at_the_class_itself():
    rng = np.random.default_rng(4)
    variants = ["x", "y", "z"]
    aucs = {name: rng.uniform(0.3, 0.9, size=6) for name in variants}
    chosen = nested_choice(aucs, variants)
    for row in range(6):
        changed = {name: auc.copy() for name, auc in aucs.items()}
        # Whatever the class's own AUCs, its choice stays the same.
        for value, name in zip((0.0, 1.0, 0.5), variants):
            changed[name][row] = value
        assert nested_choice(changed, variants)[row] == chosen[row]
        others = np.arange(6) != row
        assert chosen[row] == max(variants, key=lambda n: aucs[n][others].mean())


def test_nested_choice_needs_two_classes():
    with pytest.raises(ValueError, match="at least two"):
        nested_choice({"a": np.array([0.8])}, ["a"])


def test_precision_at_k_counts_every_neighbour():
    query_labels = np.array([0, 1])
    neighbours = np.array([[0] * 10, [1] * 10])
    assert precision_at_k(neighbours, query_labels) == 1.0
    # Only the first neighbour of the first query is wrong: nothing is skipped.
    neighbours[0, 0] = 5
    assert precision_at_k(neighbours, query_labels) == pytest.approx(19 / 20)
    neighbours[1, -1] = 5
    assert precision_at_k(neighbours, query_labels) == pytest.approx(18 / 20)
    assert precision_at_k(np.full((2, 10), 7), query_labels) == 0.0


def test_precision_at_k_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="one row per query"):
        precision_at_k(np.zeros((3, 10)), np.zeros(2))
    with pytest.raises(ValueError, match="one row per query"):
        precision_at_k(np.zeros(10), np.zeros(10))


@pytest.mark.parametrize("num_neighbours", [1, 10, 300])
def test_brute_force_search_matches_scikit_learn(labelled_points, num_neighbours):
    points, _, queries = labelled_points
    found = brute_force_search(queries, points, num_neighbours)
    expected = NearestNeighbors(n_neighbors=num_neighbours).fit(points).kneighbors(
        queries, return_distance=False)
    np.testing.assert_array_equal(found, expected)


@pytest.mark.parametrize("num_neighbours", [0, 301])
def test_brute_force_search_rejects_bad_counts(labelled_points, num_neighbours):
    points, _, queries = labelled_points
    with pytest.raises(ValueError, match="num_neighbours"):
        brute_force_search(queries, points, num_neighbours)


def test_reconstruction_errors_of_chapter_2s_autoencoder_match_numpy():
    autoencoder = Autoencoder(20)
    images = np.random.default_rng(2).uniform(size=(16, 784)).astype("float32")
    autoencoder(images[:1])
    assert autoencoder.count_params() == 487_588
    errors = reconstruction_errors(autoencoder, images)
    logits = np.asarray(autoencoder(images), dtype="float64")
    outputs = 1 / (1 + np.exp(-logits))
    np.testing.assert_allclose(errors["squared error"],
                               np.mean((outputs - images) ** 2, axis=1), rtol=1e-4)
    cross_entropy = -np.mean(images * np.log(outputs)
                             + (1 - images) * np.log(1 - outputs), axis=1)
    np.testing.assert_allclose(errors["cross-entropy"], cross_entropy, rtol=1e-4)


def venna_kaski(reference, embedding, k):
    """(trustworthiness, continuity) of a map, straight from Venna and Kaski's
    definitions, with r(i, j) the rank of j among i's neighbours (1 = nearest)."""

    def ranks(points):
        distances = cdist(points, points)
        np.fill_diagonal(distances, np.inf)
        order = np.argsort(distances, axis=1, kind="stable")
        result = np.empty_like(order)
        result[np.arange(len(points))[:, None], order] = np.arange(1, len(points) + 1)
        return result

    n = len(reference)
    rank_reference, rank_map = ranks(reference), ranks(embedding)
    near_reference, near_map = rank_reference <= k, rank_map <= k
    norm = 2 / (n * k * (2 * n - 3 * k - 1))
    # Trustworthiness: map neighbours that are not reference neighbours, by
    # their reference rank; continuity: the other way round.
    trust = 1 - norm * np.sum((rank_reference - k)[near_map & ~near_reference])
    cont = 1 - norm * np.sum((rank_map - k)[near_reference & ~near_map])
    return trust, cont


@pytest.mark.parametrize("n, dim, k", [(200, 20, 10), (300, 5, 5)])
def test_continuity_follows_its_definition(n, dim, k):
    rng = np.random.default_rng(n)
    reference = rng.normal(size=(n, dim))
    embedding = reference[:, :2] + 0.5 * rng.normal(size=(n, 2))
    trust, cont = venna_kaski(reference, embedding, k)
    assert trustworthiness(reference, embedding, n_neighbors=k) == pytest.approx(trust)
    assert continuity(reference, embedding, n_neighbors=k) == pytest.approx(cont)
    assert cont != pytest.approx(trust), "the two measures differ on this map"


def test_continuity_of_a_faithful_map_is_one():
    points = np.random.default_rng(5).normal(size=(100, 3))
    assert continuity(points, 2 * points + 1) == pytest.approx(1.0)
