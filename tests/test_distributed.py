"""A CNN grid search on a real Dask LocalCluster gives the local search's results."""

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline

from sklearn_braintumor.classifiers import CNNClassifier
from sklearn_braintumor.datasets import make_synthetic_mri
from sklearn_braintumor.preprocessing import Resize

distributed = pytest.importorskip("distributed")
joblib = pytest.importorskip("joblib")


def search():
    pipe = make_pipeline(
        Resize((24, 24)),
        CNNClassifier(max_epochs=3, early_stopping=2, random_state=0, module__hidden=16,
                      device="cpu"),
    )  # fmt: skip
    grid = {"cnnclassifier__lr": [1e-3, 1e-2], "cnnclassifier__module__dropout": [0.0, 0.3]}
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    return GridSearchCV(pipe, grid, cv=cv, n_jobs=-1)


def test_search_on_a_local_dask_cluster_matches_the_local_backend(tmp_path, monkeypatch):
    import torch
    from threadpoolctl import threadpool_limits

    X, y = make_synthetic_mri(60, image_size=32, random_state=0)
    monkeypatch.chdir(tmp_path)  # any file a fit wrote would show up here
    # one torch thread in every worker and here: floating-point sums then run in the same
    # order everywhere, so the scores can be compared exactly
    env = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the refits of both searches run here
    try:
        with distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
            dashboard_address=None, env=env,
        ) as cluster, distributed.Client(cluster) as client:  # fmt: skip
            with distributed.get_task_stream(client) as stream, joblib.parallel_backend("dask"):
                remote = search().fit(X, y)
        with threadpool_limits(1), joblib.parallel_backend("sequential"):
            local = search().fit(X, y)
    finally:
        torch.set_num_threads(threads)
    # the 4 candidates x 3 folds ran as tasks, spread over both worker processes
    assert len(stream.data) >= 12 and len({task["worker"] for task in stream.data}) == 2
    for key in ("mean_test_score", "std_test_score", "rank_test_score"):
        np.testing.assert_array_equal(remote.cv_results_[key], local.cv_results_[key])
    assert remote.best_params_ == local.best_params_
    np.testing.assert_array_equal(remote.predict(X), local.predict(X))
    assert list(tmp_path.iterdir()) == []  # no checkpoint or temporary file left by any fit
