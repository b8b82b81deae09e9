"""Type inference: what each type accepts, how a column's type is decided, and merging.

chunk_stats counts, per column and per type, the non-null values that fail the type;
merge_stats folds chunks together so the whole file is seen; decide picks the first
candidate type in the preference order under the dataset's tolerance.
"""

from __future__ import annotations

import random
from typing import Any

import pyarrow as pa
import pytest
from sluice.inference import text_parsing as tp
from sluice.inference import time_parsing
from sluice.inference.schema import (
    FAILURE_KEYS,
    SAMPLES_PER_KEY,
    ChunkStats,
    ColumnSchema,
    ColumnStats,
    InferenceSettings,
)
from sluice.inference.statistics import (
    allowed_failures,
    chunk_stats,
    decide,
    merge_stats,
    na_values_for,
)
from sluice.inference.types import DEFAULT_NA_VALUES, ColumnType, DateOrder

Cells = list[str | None]


def _stats(cells: Cells, max_categories: int = 100) -> ColumnStats:
    table = pa.table({"c": pa.array(cells, type=pa.string())})
    return chunk_stats(table, max_categories).columns[0]


def _schema(
    cells: Cells, preferred: dict[str, ColumnType] | None = None, **settings: Any
) -> ColumnSchema:
    options = InferenceSettings(**settings)
    table = pa.table({"c": pa.array(cells, type=pa.string())})
    return decide(chunk_stats(table, options.max_categories), options, preferred)[0]


def _chunk(cells: Cells) -> ChunkStats:
    return chunk_stats(pa.table({"c": pa.array(cells, type=pa.string())}), 100)


def _inferred(cells: Cells, **settings: Any) -> ColumnType:
    return _schema(cells, **settings).inferred_type


# --- counts and samples -------------------------------------------------------------------


def test_counts_values_and_nulls() -> None:
    stats = _stats(["1", None, "x", None])
    assert (stats.values, stats.nulls) == (2, 2)


def test_failures_have_every_failure_key() -> None:
    assert list(_stats(["1"]).failures) == list(FAILURE_KEYS)


def test_samples_are_the_first_failing_raw_texts_capped() -> None:
    stats = _stats(["1", " a ", None, "b", "2", "c", "d"])
    assert stats.samples["int8"] == [" a ", "b", "c"]
    assert len(stats.samples["int8"]) == SAMPLES_PER_KEY
    assert stats.failures["int8"] == 4


def test_large_string_columns_are_accepted() -> None:
    table = pa.table({"c": pa.array(["1", "2", None], type=pa.large_string())})
    stats = chunk_stats(table, 10).columns[0]
    assert (stats.values, stats.failures["int8"], stats.int_max) == (2, 0, 2)


# --- bool ---------------------------------------------------------------------------------


def test_bool_accepts_its_texts_in_any_case_and_with_spaces() -> None:
    cells: Cells = ["yes", "Y", " TRUE ", "1", "No", "n", "False", "0\t"]
    assert _stats(cells).failures["bool"] == 0
    assert _inferred(cells) is ColumnType.BOOL


def test_bool_rejects_other_texts() -> None:
    stats = _stats(["yes", "maybe", "2", "t"])
    assert stats.failures["bool"] == 3
    assert stats.samples["bool"] == ["maybe", "2", "t"]


def test_zeros_and_ones_are_bool_before_int() -> None:
    assert _inferred(["0", "1", "1", "0"]) is ColumnType.BOOL


def test_bool_parser_values() -> None:
    passes, values = tp.bool_mask_and_values(pa.array([" Yes", "n", "x", None]))
    assert passes.to_pylist() == [True, True, False, False]
    assert values.to_pylist() == [True, False, None, None]


# --- integers -----------------------------------------------------------------------------


def test_int8_holds_127_and_minus_128() -> None:
    assert _inferred(["127", "-128", "5"]) is ColumnType.INT8


def test_128_needs_int16() -> None:
    stats = _stats(["128"])
    assert (stats.failures["int8"], stats.failures["int16"]) == (1, 0)
    assert _inferred(["128", "2", "3"]) is ColumnType.INT16


def test_minus_129_needs_int16() -> None:
    assert _inferred(["-129", "2", "3"]) is ColumnType.INT16


def test_int32_boundaries() -> None:
    assert _inferred([str(2**31 - 1), str(-(2**31)), "0"]) is ColumnType.INT32
    assert _inferred([str(2**31), "1", "0"]) is ColumnType.INT64


def test_int64_holds_2_pow_63_minus_1() -> None:
    stats = _stats([str(2**63 - 1), str(-(2**63))])
    assert stats.failures["int64"] == 0
    assert (stats.int_min, stats.int_max) == (-(2**63), 2**63 - 1)


def test_2_pow_63_fails_int64_and_is_a_float() -> None:
    cells: Cells = [str(2**63), "1", "2"]
    assert _stats(cells).failures["int64"] == 1
    # A power of two: float32 holds it exactly (the old 7-digit rule said float64).
    assert _inferred(cells) is ColumnType.FLOAT32
    # 2**63 + 2**38 needs 26 bits of mantissa: float64 holds it, float32 would round it.
    assert _inferred([str(2**63 + 2**38), "1", "2"]) is ColumnType.FLOAT64


def test_below_minus_2_pow_63_fails_int64() -> None:
    assert _stats([str(-(2**63) - 1)]).failures["int64"] == 1


def test_more_than_19_digits_fail_int64_but_leading_zeros_do_not_count() -> None:
    stats = _stats(["123456789012345678901", "0000000000000000000000042"])
    assert stats.failures["int64"] == 1
    assert stats.int_max == 42


def test_int_accepts_a_sign_and_surrounding_spaces() -> None:
    stats = _stats(["+5", " -3 ", "007"])
    assert stats.failures["int8"] == 0
    assert (stats.int_min, stats.int_max) == (-3, 7)


def test_int_rejects_decimals_exponents_and_separators() -> None:
    assert _stats(["1.0", "1e3", "1,000", "1_000", "- 1"]).failures["int64"] == 5


def test_integers_with_leading_zeros_are_counted_and_noted() -> None:
    schema = _schema(["02134", "10001", "007", None, "0"])
    assert schema.inferred_type == ColumnType.INT16
    assert schema.notes == [
        "2 values are written with leading zeros (e.g. '02134'), which int16 drops: "
        "prefer string to keep them"
    ]


def test_a_zero_alone_and_decimals_are_no_leading_zeros() -> None:
    stats = _stats(["0", "10", "0.5", "-0"])
    assert (stats.leading_zeros, stats.leading_zero_sample) == (0, None)


def test_leading_zeros_are_not_noted_where_the_column_stays_text() -> None:
    assert _schema(["007", "x"]).notes == []


def test_leading_zeros_of_a_column_parsed_on_its_distinct_texts_count_every_row() -> None:
    stats = _stats(["007"] * 500 + ["12"] * 500)
    assert (stats.leading_zeros, stats.leading_zero_sample) == (500, "007")


def test_leading_zeros_merge_over_chunks() -> None:
    merged = merge_stats([_chunk(["1", "2"]), _chunk(["08", "09"]), _chunk(["010"])], 100)
    assert (merged.columns[0].leading_zeros, merged.columns[0].leading_zero_sample) == (3, "08")


def test_int_parser_values() -> None:
    passes, values = tp.int_values(pa.array(["+12", "x", None, str(2**63)]))
    assert passes.to_pylist() == [True, False, False, False]
    assert values.type == pa.int64()
    assert values.to_pylist() == [12, None, None, None]


# --- floats -------------------------------------------------------------------------------


def test_integers_also_pass_float() -> None:
    stats = _stats(["1", "-2"])
    assert (stats.failures["float32"], stats.failures["float64"]) == (0, 0)
    assert (stats.float_min, stats.float_max) == (-2.0, 1.0)


def test_an_integer_float64_would_round_fails_it() -> None:
    passes, values = tp.float_values(
        pa.array(["123456789012345678901234", "9007199254740993", str(2**63 - 1), "-" + "9" * 40])
    )
    assert passes.to_pylist() == [False, False, False, False]
    assert values.null_count == 4


def test_integers_float64_holds_and_decimals_pass_it() -> None:
    texts = ["9007199254740992", str(2**62), "-" + str(2**63), "1e30", "12345678901234567.5"]
    passes, values = tp.float_values(pa.array(texts))
    assert passes.to_pylist() == [True] * 5
    assert values.to_pylist() == [2.0**53, 2.0**62, -(2.0**63), 1e30, 12345678901234567.5]


def test_a_column_of_ids_past_int64_is_text_not_rounded_floats() -> None:
    assert _inferred(["123456789012345678901234", "223456789012345678901234"]) == (
        ColumnType.STRING
    )


def test_an_int64_float64_rounds_beside_an_id_past_int64_passes_int64_alone() -> None:
    stats = _stats(["9007199254740993", "123456789012345678901234"])
    assert (stats.failures["int64"], stats.failures["float64"]) == (1, 2)


def test_a_column_of_int64s_past_2_to_the_53_stays_int64() -> None:
    assert _inferred([str(2**63 - 1), "9007199254740993"]) == ColumnType.INT64


def test_int64s_float64_rounds_fail_float64_on_the_fast_path_as_their_texts_do() -> None:
    rng = random.Random(53)
    numbers = [rng.randrange(-(2**63), 2**63) >> rng.randrange(0, 12) for _ in range(5000)]
    numbers += [2**53, 2**53 + 1, 2**63 - 1, -(2**63)]
    texts = pa.array([str(n) for n in numbers])
    by_number = tp.float64_passes_of_ints(pa.array(numbers, pa.int64()))
    by_text = tp.np_bool(tp.float_values(texts)[0])
    assert by_number.tolist() == by_text.tolist() == [int(float(n)) == n for n in numbers]
    assert 0 < by_number.sum() < len(numbers)


def test_float32_accepts_what_it_holds_exactly() -> None:
    cells: Cells = ["0.5", "-1234567", "1.500000000", "1230000000", "-0.0625", "16777216", "1e6"]
    assert _stats(cells).failures["float32"] == 0
    assert _inferred(cells) is ColumnType.FLOAT32


def test_float32_rejects_what_it_would_round() -> None:
    # Was float32 under the old "at most 7 significant digits" rule, which float32 cannot
    # hold: statecrime's 459.9 came back as 459.8999938964844 (issue 18).
    for cells in (["0.137", "0.5"], ["459.9", "0.5"], ["1.2345678", "0.5"], ["16777217", "0.5"]):
        stats = _stats(cells)
        assert (stats.failures["float32"], stats.failures["float64"]) == (1, 0), cells
        assert stats.samples["float32"] == cells[:1]
        assert _inferred(cells) is ColumnType.FLOAT64


def test_float32_rejects_magnitudes_outside_its_range() -> None:
    largest, smallest_normal = "3.4028234663852886e38", "1.1754943508222875e-38"
    stats = _stats(["1e39", "-1e39", "1e-40", largest, smallest_normal, "1e999"])
    assert stats.failures["float32"] == 4
    assert stats.samples["float32"][:3] == ["1e39", "-1e39", "1e-40"]


def test_a_preferred_float32_rounds_and_says_so() -> None:
    schema = _schema(["0.5", "459.9", "0.137", "nope"], {"c": ColumnType.FLOAT32})
    assert (schema.inferred_type, schema.effective_type) == (ColumnType.STRING, ColumnType.FLOAT32)
    assert schema.notes == ["float32 rounds 2 numbers it cannot hold exactly (e.g. '459.9')"]
    assert _schema(["0.5", "2.25", "nope"], {"c": ColumnType.FLOAT32}).notes == []


def test_scientific_notation_is_float() -> None:
    stats = _stats(["1e3", "-2.5E-3", "+6.02e+23", ".5", "5."])
    assert stats.failures["float64"] == 0
    assert (stats.float_min, stats.float_max) == (-0.0025, 6.02e23)


def test_inf_and_nan_words_are_float_but_not_in_min_max() -> None:
    stats = _stats(["inf", "-Infinity", "NaN", "1.5", "INF"])
    assert (stats.failures["float64"], stats.failures["float32"]) == (0, 0)
    assert (stats.float_min, stats.float_max) == (1.5, 1.5)


def test_float_rejects_words_hex_and_separators() -> None:
    assert _stats(["abc", "0x10", "1,5", "1.2.3", "e5"]).failures["float64"] == 5


def test_float_parser_values() -> None:
    passes, values = tp.float_values(pa.array(["1e2", "x", None]))
    assert passes.to_pylist() == [True, False, False]
    assert values.to_pylist() == [100.0, None, None]
    passes32, values32 = tp.float32_values(pa.array(["0.5", "0.123456789"]))
    assert passes32.to_pylist() == [True, False]
    assert values32.type == pa.float32()


# --- datetime -----------------------------------------------------------------------------


def test_iso_dates_are_datetime_iso() -> None:
    schema = _schema(["2024-01-31", "2024/02/29", "2023-12-01"])
    assert (schema.inferred_type, schema.date_order) == (ColumnType.DATETIME, DateOrder.ISO)
    assert (schema.min, schema.max) == ("2023-12-01T00:00:00", "2024-02-29T00:00:00")
    assert schema.notes == []


def test_iso_with_time_fraction_z_and_offset() -> None:
    cells: Cells = ["2024-01-02T10:00:00.5Z", "2024-01-02T10:00:00+02:00", "2024-01-02 09:30"]
    schema = _schema(cells)
    assert schema.failures["datetime:iso"] == 0
    assert schema.effective_type is ColumnType.DATETIME
    assert (schema.min, schema.max) == ("2024-01-02T08:00:00", "2024-01-02T10:00:00.500000")


def test_iso_offsets_are_applied_and_fractions_kept_to_the_microsecond() -> None:
    stats = _stats(["2024-01-02 10:00:00.1234567-0130", "2024-01-02T10:00+02"])
    assert stats.failures["datetime:iso"] == 0
    assert stats.datetime_min["iso"] == "2024-01-02T08:00:00"
    assert stats.datetime_max["iso"] == "2024-01-02T11:30:00.123456"


def test_fraction_without_seconds_fails() -> None:
    assert _stats(["2024-01-02T10:00.5"]).failures["datetime:iso"] == 1


def test_mdy_dates_with_time() -> None:
    schema = _schema(["12/31/2024 23:59", "01/15/2024 08:00:00", "02/03/2024T07:05"])
    assert (schema.inferred_type, schema.date_order) == (ColumnType.DATETIME, DateOrder.MDY)
    assert schema.notes == ["M/D/Y: 0 values fail it, D/M/Y: 2 do"]
    assert schema.max == "2024-12-31T23:59:00"


def test_dates_with_a_12_hour_clock_are_datetime() -> None:
    schema = _schema(["12/31/2024 11:59 PM", "01/15/2024 12:05:30 am", "02/03/2024 7:05PM"])
    assert (schema.inferred_type, schema.date_order) == (ColumnType.DATETIME, DateOrder.MDY)
    assert (schema.min, schema.max) == ("2024-01-15T00:05:30", "2024-12-31T23:59:00")


def test_a_12_hour_clock_past_12_or_at_0_fails_datetime() -> None:
    stats = _stats(["12/31/2024 13:00 PM", "12/31/2024 0:30 AM", "12/31/2024 10:00 XM"])
    assert stats.failures["datetime:mdy"] == 3


def test_dmy_column_with_31_12_2024_is_dmy() -> None:
    schema = _schema(["31/12/2024", "01/02/2024", "05/06/2024"])
    assert (schema.inferred_type, schema.date_order) == (ColumnType.DATETIME, DateOrder.DMY)
    assert schema.notes == ["D/M/Y: 0 values fail it, M/D/Y: 1 does"]
    assert (schema.min, schema.max) == ("2024-02-01T00:00:00", "2024-12-31T00:00:00")


def test_ambiguous_dates_are_mdy_with_a_note() -> None:
    schema = _schema(["01/02/2024", "01/02/2024", "03/04/2024"])
    assert (schema.inferred_type, schema.date_order) == (ColumnType.DATETIME, DateOrder.MDY)
    assert schema.notes == ["dates fit both M/D/Y and D/M/Y; chose M/D/Y"]


def test_mixed_iso_and_dmy_is_dmy() -> None:
    schema = _schema(["2024-01-05", "25/12/2024", "01/02/2024"])
    assert (schema.inferred_type, schema.date_order) == (ColumnType.DATETIME, DateOrder.DMY)
    assert [schema.failures[f"datetime:{o}"] for o in ("iso", "mdy", "dmy")] == [2, 1, 0]


def test_mixed_iso_and_mdy_has_no_mdy_failures() -> None:
    stats = _stats(["2024-01-05", "12/25/2024", "2024-02-01 10:00"])
    assert stats.failures["datetime:mdy"] == 0
    assert stats.datetime_max["mdy"] == "2024-12-25T00:00:00"


def test_dot_and_dash_separated_dmy_dates() -> None:
    stats = _stats(["31.12.2024", "31-12-2024 10:15:30"])
    assert (stats.failures["datetime:dmy"], stats.failures["datetime:mdy"]) == (0, 2)


def test_impossible_dates_fail() -> None:
    stats = _stats(["2024-02-30", "2023-02-29", "2024-13-01", "31/04/2024", "2024-01-01 24:00"])
    assert stats.failures["datetime:iso"] == 5
    assert stats.failures["datetime:dmy"] == 5


def test_leap_day_passes() -> None:
    assert _stats(["2024-02-29", "29/02/2024"]).failures["datetime:dmy"] == 0


def test_two_digit_years_and_bare_numbers_are_not_dates() -> None:
    stats = _stats(["01/02/24", "20240102", "2024"])
    assert [stats.failures[f"datetime:{o}"] for o in ("iso", "mdy", "dmy")] == [3, 3, 3]


def test_datetime_min_max_are_kept_per_order() -> None:
    stats = _stats(["01/02/2024", "03/04/2024"])
    assert stats.datetime_min == {"mdy": "2024-01-02T00:00:00", "dmy": "2024-02-01T00:00:00"}
    assert stats.datetime_max == {"mdy": "2024-03-04T00:00:00", "dmy": "2024-04-03T00:00:00"}


def test_datetime_parser_values() -> None:
    passes, values = time_parsing.datetime_values(
        pa.array(["31/12/2024 10:00", "x", None]), DateOrder.DMY
    )
    assert passes.to_pylist() == [True, False, False]
    assert values.type == pa.timestamp("us")
    assert str(values[0].as_py()) == "2024-12-31 10:00:00"


# --- timedelta ----------------------------------------------------------------------------


def test_timedelta_clock_pandas_python_and_iso_forms() -> None:
    cells: Cells = [
        "10:00:00",
        "1 days 02:03:04.500000",
        "-1 days +23:59:59",
        "1 day, 2:03:04",
        "P1DT2H3M4.5S",
        "PT15M",
        "-PT1S",
        "P2W",
    ]
    schema = _schema(cells)
    assert schema.failures["timedelta"] == 0
    assert schema.inferred_type is ColumnType.TIMEDELTA
    assert (schema.min, schema.max) == (-1.0, 1_209_600.0)


def test_timedelta_hours_of_any_length() -> None:
    stats = _stats(["100000:00:00.25"])
    assert stats.timedelta_max_us == 100_000 * 3600 * 1_000_000 + 250_000


def test_timedelta_rejects_bare_numbers_and_short_clocks() -> None:
    stats = _stats(["12", "12:30", "P", "PT", "1:2:3", "P1Y"])
    assert stats.failures["timedelta"] == 6


def test_timedelta_parser_values() -> None:
    passes, values = time_parsing.timedelta_values(pa.array(["PT1M", "5", None]))
    assert passes.to_pylist() == [True, False, False]
    assert values.type == pa.duration("us")
    assert values.cast(pa.int64()).to_pylist() == [60_000_000, None, None]


# --- category and string ------------------------------------------------------------------


def test_category_at_exactly_max_categories() -> None:
    schema = _schema(["b", "a", "c", "a", "b", "c"], max_categories=3)
    assert schema.inferred_type is ColumnType.CATEGORY
    assert schema.categories == ["a", "b", "c"]


def test_no_category_above_max_categories() -> None:
    cells: Cells = ["a", "b", "c", "d"] * 2
    assert _inferred(cells, max_categories=3) is ColumnType.STRING
    assert _inferred(cells, max_categories=4) is ColumnType.CATEGORY


def test_no_category_when_distinct_ratio_is_above_one_half() -> None:
    assert _inferred(["a", "b", "c", "a"]) is ColumnType.STRING
    assert _inferred(["a", "b", "a", "b"]) is ColumnType.CATEGORY


def test_distinct_is_kept_up_to_max_categories_plus_one() -> None:
    assert _stats(["c", "a", "b"], max_categories=2).distinct == ["a", "b", "c"]
    assert _stats(["c", "a", "b", "d"], max_categories=2).distinct is None


def test_distinct_is_none_for_many_values_beyond_the_probe() -> None:
    cells: Cells = [str(i) for i in range(1000)]
    assert _stats(cells, max_categories=3).distinct is None


def test_all_null_column_is_string() -> None:
    schema = _schema([None, None])
    assert (schema.inferred_type, schema.null_count) == (ColumnType.STRING, 2)
    assert (schema.min, schema.max, schema.date_order) == (None, None, None)


def test_text_min_max_look_at_the_first_100_characters() -> None:
    stats = _stats(["b" * 150, "a", None])
    assert (stats.text_min, stats.text_max) == ("a", "b" * 100)


def test_text_bounds_count_characters_not_bytes() -> None:
    assert _stats(["é" * 150]).text_max == "é" * 100


def test_string_min_max_are_texts() -> None:
    schema = _schema(["pear", "apple", "fig"])
    assert (schema.inferred_type, schema.min, schema.max) == (ColumnType.STRING, "apple", "pear")


# --- tolerance ----------------------------------------------------------------------------

TWO_BAD: Cells = [*(str(i) for i in range(10)), "x", "y"]


def test_tolerance_count_lets_int_win_over_two_bad_values() -> None:
    assert _inferred(TWO_BAD, tolerance=2) is ColumnType.INT8
    assert _inferred(TWO_BAD, tolerance=1) is ColumnType.STRING


def test_tolerance_fraction_of_non_null_values() -> None:
    cells: Cells = [*TWO_BAD[:9], "x", None]  # 10 values, one bad
    assert _inferred(cells, tolerance=0.1) is ColumnType.INT8
    assert _inferred(cells, tolerance=0.09) is ColumnType.STRING


def test_tolerance_per_type_map() -> None:
    assert _inferred(TWO_BAD, tolerance={"int64": 2}) is ColumnType.INT64
    assert _inferred(TWO_BAD, tolerance={"float64": 2}) is ColumnType.FLOAT64


def test_tolerance_never_lets_a_type_win_that_no_value_passes() -> None:
    assert _inferred(["a", "b"], tolerance=5) is ColumnType.STRING


def test_allowed_failures() -> None:
    assert allowed_failures(3, ColumnType.INT8, 100) == 3
    assert allowed_failures(2.7, ColumnType.INT8, 100) == 2
    assert allowed_failures(0.25, ColumnType.INT8, 10) == 2
    assert allowed_failures(0, ColumnType.INT8, 10) == 0
    assert allowed_failures({ColumnType.BOOL: 1}, ColumnType.INT8, 10) == 0


# --- preferred types and effective min/max ------------------------------------------------


def test_preferred_type_overrides_inferred() -> None:
    schema = _schema(["3", "10", "2"], preferred={"c": ColumnType.STRING})
    assert (schema.inferred_type, schema.preferred_type) == (ColumnType.INT8, ColumnType.STRING)
    assert schema.effective_type is ColumnType.STRING
    assert (schema.min, schema.max) == ("10", "3")


def test_settings_column_types_are_preferred_types() -> None:
    schema = _schema(["3", "10"], column_types={"c": "float64"})
    assert schema.effective_type is ColumnType.FLOAT64
    assert (schema.min, schema.max) == (3.0, 10.0)


def test_preferred_datetime_still_picks_the_best_date_order() -> None:
    schema = _schema(["31/12/2024", "x", "y"], preferred={"c": ColumnType.DATETIME})
    assert (schema.inferred_type, schema.date_order) == (ColumnType.STRING, DateOrder.DMY)
    assert schema.min == schema.max == "2024-12-31T00:00:00"


def test_preferred_category_lists_the_categories() -> None:
    schema = _schema(["x", "y", "z"], preferred={"c": ColumnType.CATEGORY})
    assert schema.categories == ["x", "y", "z"]


def test_int_min_max_are_ints_and_bool_has_none() -> None:
    ints = _schema(["-5", "100"])
    assert (ints.min, ints.max) == (-5, 100)
    assert isinstance(ints.min, int)
    assert (_schema(["yes", "no"]).min, _schema(["yes", "no"]).max) == (None, None)


# --- merge --------------------------------------------------------------------------------


def _chunk(cells: Cells, max_categories: int = 5) -> ChunkStats:
    return chunk_stats(pa.table({"c": pa.array(cells, type=pa.string())}), max_categories)


def test_merge_sums_counts_and_failures() -> None:
    merged = merge_stats([_chunk(["1", None]), _chunk(["x", "2", None])], 5)
    column = merged.columns[0]
    assert (merged.rows, column.values, column.nulls) == (5, 3, 2)
    assert column.failures["int8"] == 1
    assert (column.int_min, column.int_max) == (1, 2)


def test_merge_samples_follow_part_order_up_to_the_cap() -> None:
    merged = merge_stats([_chunk(["a", "b"]), _chunk(["c", "d"])], 5)
    assert merged.columns[0].samples["int8"] == ["a", "b", "c"]


def test_merge_distinct_is_none_when_the_union_is_too_big() -> None:
    parts = [_chunk(["a", "b", "c"]), _chunk(["d", "e", "f"])]
    assert merge_stats(parts, 5).columns[0].distinct == ["a", "b", "c", "d", "e", "f"]
    assert merge_stats(parts, 4).columns[0].distinct is None


def test_merge_rejects_different_column_names() -> None:
    other = chunk_stats(pa.table({"d": pa.array(["1"])}), 5)
    with pytest.raises(ValueError, match="different columns"):
        merge_stats([_chunk(["1"]), other], 5)


def test_merge_is_associative() -> None:
    a, b, c = _chunk(["1", "x", "01/02/2024"]), _chunk(["31/12/2024", None]), _chunk(["PT1S"])
    left = merge_stats([merge_stats([a, b], 5), c], 5)
    right = merge_stats([a, merge_stats([b, c], 5)], 5)
    assert left.model_dump() == right.model_dump() == merge_stats([a, b, c], 5).model_dump()


def _messy_cell(rng: random.Random) -> str | None:
    choices = [
        lambda: None,
        lambda: str(rng.randint(-300, 300)),
        lambda: str(rng.choice([2**63 - 1, -(2**63), 2**63, 2**31])),
        lambda: f"{rng.uniform(-1e6, 1e6):.{rng.randint(0, 9)}f}",
        lambda: f"{rng.uniform(-10, 10):.3e}",
        lambda: rng.choice(["yes", "No", " TRUE", "0", "inf", "nan"]),
        lambda: f"{rng.randint(1, 12):02d}/{rng.randint(1, 31):02d}/{rng.randint(1990, 2030)}",
        lambda: f"{rng.randint(1990, 2030)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        lambda: (
            f"2024-05-06T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00.{rng.randint(1, 9)}Z"
        ),
        lambda: f"{rng.randint(0, 99)}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}",
        lambda: f"P{rng.randint(0, 9)}DT{rng.randint(0, 9)}H",
        lambda: rng.choice(["apple", "pear", " fig ", "", "Ωmega"]) * rng.randint(1, 3),
    ]
    return rng.choice(choices)()


@pytest.mark.parametrize("seed", range(5))
def test_merging_chunk_stats_equals_stats_of_the_whole_table(seed: int) -> None:
    rng = random.Random(seed)
    rows = 400
    table = pa.table(
        {
            name: pa.array([_messy_cell(rng) for _ in range(rows)], type=pa.string())
            for name in "abc"
        }
    )
    cuts = sorted(rng.sample(range(1, rows), 4))
    bounds = list(zip([0, *cuts], [*cuts, rows], strict=True))
    parts = [chunk_stats(table.slice(lo, hi - lo), 40) for lo, hi in bounds]
    assert merge_stats(parts, 40).model_dump() == chunk_stats(table, 40).model_dump()


# --- settings -----------------------------------------------------------------------------


def test_na_values_default_to_the_types_defaults() -> None:
    assert na_values_for(InferenceSettings()) == list(DEFAULT_NA_VALUES)


def test_na_values_from_settings_even_when_empty() -> None:
    assert na_values_for(InferenceSettings(na_values=["-999"])) == ["-999"]
    assert na_values_for(InferenceSettings(na_values=[])) == []
