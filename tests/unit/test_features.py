import time
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from reportgen.categories import MAX_VALUES
from reportgen.config import FeatureSettings
from reportgen.errors import DataError
from reportgen.features import Scaling, apply_scaling, build_features
from tests.helpers import clean

DRIVERS = {"drivers": ["spend", "tier"]}


def test_standard_scaling_exact_values(tiny_table):
    features = build_features(clean(tiny_table), FeatureSettings())
    assert features.scaling.names == ("recency", "spend", "frequency")
    spend = np.array([100, 200, 300, 1000, 1100, 1200.0])
    np.testing.assert_allclose(features.scaling.center[1], 650.0)
    np.testing.assert_allclose(features.scaling.scale[1], spend.std())
    np.testing.assert_allclose(features.matrix[:, 1], (spend - 650) / spend.std())
    np.testing.assert_allclose(features.matrix.mean(axis=0), 0, atol=1e-12)


def test_robust_scaling_uses_median_and_quartiles(tiny_table):
    features = build_features(clean(tiny_table), FeatureSettings(scaling="robust"))
    # spend quartiles with linear interpolation: 225 and 1075, median 650
    np.testing.assert_allclose(features.scaling.center[1], 650.0)
    np.testing.assert_allclose(features.scaling.scale[1], 850.0)


def test_log_spend_and_back_to_units(tiny_table):
    features = build_features(clean(tiny_table), FeatureSettings(log_spend=True))
    assert features.scaling.log1p == ("spend",)
    back = features.scaling.to_units(features.matrix.copy())
    np.testing.assert_allclose(back[:, 1], [100, 200, 300, 1000, 1100, 1200])
    np.testing.assert_allclose(back[:, 0], [50, 40, 60, 5, 6, 4])


def test_constant_driver_is_dropped_with_a_note(tiny_table):
    data = clean(tiny_table.assign(**{"Average Rating": ["4"] * 6}))
    features = build_features(data, FeatureSettings())
    assert "rating" not in features.scaling.names
    assert features.dropped_constant == ("rating",)


def test_categorical_driver_one_hot_or_codes():
    frame = pd.DataFrame(
        {
            "id": ["1", "2", "3", "4"],
            "spend": ["1", "2", "3", "4"],
            "tier": ["Gold", "Bronze", "Gold", "Silver"],
        },
        dtype="string",
    )
    data = clean(frame, features={"drivers": ["spend", "tier"]})
    hot = build_features(data, FeatureSettings(drivers=("spend", "tier")))
    assert hot.scaling.names == ("spend", "tier=Bronze", "tier=Gold", "tier=Silver")
    assert hot.scaling.roles == ("spend", "tier", "tier", "tier")
    coded = build_features(data, FeatureSettings(drivers=("spend", "tier"), one_hot=False))
    assert coded.scaling.names == ("spend", "tier")
    units = coded.scaling.to_units(coded.matrix.copy())
    assert units[:, 1].tolist() == pytest.approx([1, 0, 1, 2])  # Bronze 0, Gold 1, Silver 2


def test_all_constant_drivers_is_an_error():
    frame = pd.DataFrame({"id": ["1", "2"], "spend": ["5", "5"]}, dtype="string")
    with pytest.raises(DataError, match="every driver column has the same value"):
        build_features(clean(frame), FeatureSettings())


def test_apply_scaling_uses_the_archived_scale_and_zeros_unseen_levels():
    frame = pd.DataFrame(
        {
            "id": ["1", "2", "3"],
            "spend": ["100", "300", "500"],
            "tier": ["Gold", "Bronze", "Silver"],
        },
        dtype="string",
    )
    data = clean(frame, features={"drivers": ["spend", "tier"]})
    scaling = Scaling(
        names=("spend", "tier=Gold", "tier=Silver"),
        roles=("spend", "tier", "tier"),
        kind="standard",
        center=np.array([200.0, 0.5, 0.5]),
        scale=np.array([100.0, 0.5, 0.5]),
        log1p=(),
    )
    features = apply_scaling(data, FeatureSettings(drivers=("spend", "tier")), scaling)
    assert features.scaling is scaling  # the frozen model's own, unchanged
    assert features.unseen == ("tier=Bronze",)  # the model never saw Bronze
    np.testing.assert_allclose(
        features.matrix,
        [[-1.0, 1.0, -1.0], [1.0, -1.0, -1.0], [3.0, -1.0, 1.0]],
    )


def test_apply_scaling_follows_the_models_log_and_needs_its_drivers():
    frame = pd.DataFrame({"id": ["1", "2"], "spend": ["0", "99"]}, dtype="string")
    scaling = Scaling(
        names=("spend",),
        roles=("spend",),
        kind="standard",
        center=np.array([0.0]),
        scale=np.array([1.0]),
        log1p=("spend",),
    )
    features = apply_scaling(clean(frame), FeatureSettings(log_spend=False), scaling)
    np.testing.assert_allclose(features.matrix[:, 0], [0.0, np.log(100)])
    needs_rating = Scaling(
        names=("spend", "rating"),
        roles=("spend", "rating"),
        kind="standard",
        center=np.zeros(2),
        scale=np.ones(2),
        log1p=(),
    )
    with pytest.raises(DataError, match="the archived model needs rating"):
        apply_scaling(clean(frame), FeatureSettings(), needs_rating)


def test_apply_scaling_keeps_the_models_label_codes():
    """Bronze is gone this period and Platinum is new: Gold and Silver keep codes 1 and 2."""
    frame = pd.DataFrame(
        {
            "id": ["1", "2", "3"],
            "spend": ["100", "300", "500"],
            "tier": ["Gold", "Silver", "Platinum"],
        },
        dtype="string",
    )
    fitted = clean(
        frame.assign(tier=["Bronze", "Gold", "Silver"]), features={"drivers": ["spend", "tier"]}
    )
    settings = FeatureSettings(drivers=("spend", "tier"), one_hot=False)
    model = build_features(fitted, settings)
    assert model.scaling.codes == {"tier": ("Bronze", "Gold", "Silver")}
    scaling = Scaling(
        names=model.scaling.names,
        roles=model.scaling.roles,
        kind="standard",
        center=np.array([0.0, 1.5]),
        scale=np.array([1.0, 0.5]),
        log1p=(),
        codes=model.scaling.codes,
    )
    data = clean(frame, features={"drivers": ["spend", "tier"]})
    # one_hot = true in today's config: the model's encoding wins
    features = apply_scaling(data, replace(settings, one_hot=True), scaling)
    np.testing.assert_allclose(features.matrix[:, 1], [-1.0, 1.0, 0.0])
    assert features.unseen == ("tier=Platinum",)
    assert features.scaling.codes == model.scaling.codes


def _tiers(common: dict[str, int], rare: int) -> pd.DataFrame:
    """A table whose tier column has the `common` levels (level -> customers) and `rare`
    levels held by one customer each."""
    tiers = [level for level, count in common.items() for _ in range(count)]
    tiers += [f"rare-{i:05d}" for i in range(rare)]
    return pd.DataFrame(
        {
            "id": [str(i) for i in range(len(tiers))],
            "spend": [str(i % 97) for i in range(len(tiers))],
            "tier": tiers,
        },
        dtype="string",
    )


def test_a_category_driver_with_thousands_of_levels_stays_a_few_features():
    data = clean(_tiers({"Gold": 30, "Silver": 20, "Bronze": 10}, 3_000), features=DRIVERS)
    settings = FeatureSettings(drivers=("spend", "tier"))
    start = time.perf_counter()
    features = build_features(data, settings, min_count=10)
    took = time.perf_counter() - start
    # Only the levels held by at least 10 customers get a column; the 3,000 rare levels'
    # customers are zeros in all three, like a reference level.
    assert features.scaling.names == ("spend", "tier=Bronze", "tier=Gold", "tier=Silver")
    assert features.matrix.shape == (3_060, 4)
    assert took < 5, took
    # However many levels are common enough, at most MAX_VALUES become columns.
    many = clean(_tiers({f"T{i:02d}": 20 + i for i in range(15)}, 0), features=DRIVERS)
    names = build_features(many, settings, min_count=10).scaling.names
    assert names == ("spend", *(f"tier=T{i:02d}" for i in range(5, 15)))
    assert len(names) - 1 == MAX_VALUES


def test_a_frozen_model_names_only_new_levels_common_enough_to_name():
    model = Scaling(
        names=("spend", "tier=Gold", "tier=Silver"),
        roles=("spend", "tier", "tier"),
        kind="standard",
        center=np.array([0.0, 0.0, 0.0]),
        scale=np.array([1.0, 1.0, 1.0]),
        log1p=(),
    )
    # This period: Gold is down to one customer, Platinum is new and common, 30 rare
    # levels are new and held by one customer each.
    data = clean(_tiers({"Gold": 1, "Silver": 12, "Platinum": 10}, 30), features=DRIVERS)
    features = apply_scaling(data, FeatureSettings(drivers=("spend", "tier")), model, 10)
    assert features.unseen == ("tier=Platinum", "tier=Other (30 values)")
    # The model's own levels are encoded however rare they are now.
    np.testing.assert_array_equal(features.matrix[:2, 1:], [[1.0, 0.0], [0.0, 1.0]])
    assert features.matrix[:, 1].sum() == 1 and features.matrix[:, 2].sum() == 12


@pytest.mark.parametrize("one_hot", [True, False])
def test_apply_scaling_encodes_the_models_drivers_not_todays(one_hot):
    """A model scores with the drivers it was fitted on, whatever [features] drivers says
    now (refit mode scores with last period's model after the drivers were edited): the
    same customers give the fit's own matrix back. A category the model needs that the
    data lacks is an error, not a block of zeros that moves every customer."""
    frame = pd.DataFrame(
        {
            "id": ["1", "2", "3", "4"],
            "spend": ["100", "300", "500", "700"],
            "tier": ["Gold", "Bronze", "Gold", "Silver"],
        },
        dtype="string",
    )
    settings = FeatureSettings(drivers=("spend", "tier"), one_hot=one_hot)
    fitted = build_features(clean(frame, features=DRIVERS), settings)
    today = clean(frame, features={"drivers": ["spend"]})
    assert today.drivers == ("spend",) and "tier" in today.frame
    again = apply_scaling(today, replace(settings, drivers=("spend",)), fitted.scaling)
    np.testing.assert_allclose(again.matrix, fitted.matrix)
    without = clean(frame.drop(columns="tier"))
    with pytest.raises(DataError, match="the archived model needs tier"):
        apply_scaling(without, replace(settings, drivers=("spend",)), fitted.scaling)
