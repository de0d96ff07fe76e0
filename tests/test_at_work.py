"""Unit tests of chapter 9's own code: the split, the searches, the scores."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import notebook_definitions
from sklearn.neighbors import NearestNeighbors


@pytest.fixture(scope="module")
def chapter():
    """The cells of 09_autoencoders_at_work tagged `definition`, executed."""
    return notebook_definitions("09_autoencoders_at_work")


@pytest.fixture(scope="module")
def labelled_points():
    """Random points in 5 dimensions (no ties), with 10 labels of 30 points each."""
    rng = np.random.default_rng(0)
    points = rng.normal(size=(300, 5))
    labels = rng.permutation(np.repeat(np.arange(10), 30))
    queries = rng.normal(size=(40, 5))
    return points, labels, queries


def test_leave_one_class_out_keeps_every_other_image_and_no_held_out_one(chapter):
    labels = np.random.default_rng(1).integers(0, 10, size=1000)
    for held_out in range(10):
        kept = chapter["leave_one_class_out"](labels, held_out)
        assert not np.any(labels[kept] == held_out)
        np.testing.assert_array_equal(kept, np.flatnonzero(labels != held_out))
        assert len(np.unique(kept)) == len(kept)


def test_leave_one_class_out_rejects_an_absent_class(chapter):
    with pytest.raises(ValueError, match="does not occur"):
        chapter["leave_one_class_out"](np.array([0, 1, 2]), 7)


def test_nearest_per_class_stays_in_each_class(chapter, labelled_points):
    points, labels, queries = labelled_points
    distances, indices = chapter["nearest_per_class"](queries, points, labels, 4)
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
        chapter, labelled_points, held_out):
    points, labels, queries = labelled_points
    lists = chapter["nearest_per_class"](queries, points, labels, 10)
    others = [label for label in range(10) if label != held_out]
    distances, indices = chapter["merge_nearest"](*lists, others, 10)
    kept = np.flatnonzero(labels != held_out)
    expected_distances, found = NearestNeighbors(n_neighbors=10).fit(
        points[kept]).kneighbors(queries)
    np.testing.assert_allclose(distances, expected_distances)
    np.testing.assert_array_equal(indices, kept[found])
    assert not np.any(labels[indices] == held_out)


def test_merged_over_all_classes_is_the_plain_search(chapter, labelled_points):
    points, labels, queries = labelled_points
    lists = chapter["nearest_per_class"](queries, points, labels, 10)
    distances, indices = chapter["merge_nearest"](*lists, range(10), 10)
    expected_distances, expected = NearestNeighbors(n_neighbors=10).fit(
        points).kneighbors(queries)
    np.testing.assert_allclose(distances, expected_distances)
    np.testing.assert_array_equal(indices, expected)


def test_merge_nearest_and_nearest_per_class_reject_too_many_neighbours(
        chapter, labelled_points):
    points, labels, queries = labelled_points
    lists = chapter["nearest_per_class"](queries, points, labels, 3)
    with pytest.raises(ValueError, match="num_neighbours"):
        chapter["merge_nearest"](*lists, range(10), 5)
    with pytest.raises(ValueError, match="fewer than num_neighbours"):
        chapter["nearest_per_class"](queries, points, labels, 31)


def test_precision_at_k_counts_every_neighbour(chapter):
    precision_at_k = chapter["precision_at_k"]
    query_labels = np.array([0, 1])
    neighbours = np.array([[0] * 10, [1] * 10])
    assert precision_at_k(neighbours, query_labels) == 1.0
    # Only the first neighbour of the first query is wrong: nothing is skipped.
    neighbours[0, 0] = 5
    assert precision_at_k(neighbours, query_labels) == pytest.approx(19 / 20)
    neighbours[1, -1] = 5
    assert precision_at_k(neighbours, query_labels) == pytest.approx(18 / 20)
    assert precision_at_k(np.full((2, 10), 7), query_labels) == 0.0


def test_precision_at_k_rejects_mismatched_shapes(chapter):
    with pytest.raises(ValueError, match="one row per query"):
        chapter["precision_at_k"](np.zeros((3, 10)), np.zeros(2))
    with pytest.raises(ValueError, match="one row per query"):
        chapter["precision_at_k"](np.zeros(10), np.zeros(10))


@pytest.mark.parametrize("num_neighbours", [1, 10, 300])
def test_brute_force_search_matches_scikit_learn(chapter, labelled_points,
                                                 num_neighbours):
    points, _, queries = labelled_points
    found = chapter["brute_force_search"](queries, points, num_neighbours)
    expected = NearestNeighbors(n_neighbors=num_neighbours).fit(points).kneighbors(
        queries, return_distance=False)
    np.testing.assert_array_equal(found, expected)


@pytest.mark.parametrize("num_neighbours", [0, 301])
def test_brute_force_search_rejects_bad_counts(chapter, labelled_points,
                                               num_neighbours):
    points, _, queries = labelled_points
    with pytest.raises(ValueError, match="num_neighbours"):
        chapter["brute_force_search"](queries, points, num_neighbours)


def test_autoencoder_is_chapter_2s_and_its_errors_match_numpy(chapter):
    autoencoder, encoder = chapter["build_autoencoder"](20)
    assert autoencoder.count_params() == 487_588
    images = np.random.default_rng(2).uniform(size=(16, 784)).astype("float32")
    assert encoder(images).shape == (16, 20)
    errors = chapter["reconstruction_errors"](autoencoder, images)
    logits = np.asarray(autoencoder(images), dtype="float64")
    outputs = 1 / (1 + np.exp(-logits))
    np.testing.assert_allclose(errors["squared error"],
                               np.mean((outputs - images) ** 2, axis=1), rtol=1e-4)
    cross_entropy = -np.mean(images * np.log(outputs)
                             + (1 - images) * np.log(1 - outputs), axis=1)
    np.testing.assert_allclose(errors["cross-entropy"], cross_entropy, rtol=1e-4)


def test_pca_errors_match_the_course_helper(chapter, helpers):
    rng = np.random.default_rng(3)
    x_fit = rng.uniform(size=(500, 30)) @ rng.normal(size=(30, 30))
    images = rng.uniform(size=(50, 30)) @ rng.normal(size=(30, 30))
    expected = np.mean((helpers.pca_reconstruct(x_fit, images, 5) - images) ** 2,
                       axis=1)
    np.testing.assert_allclose(chapter["pca_errors"](x_fit, images, 5), expected,
                               rtol=1e-6)
