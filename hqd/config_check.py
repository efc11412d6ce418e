"""Checks the year-keyed configuration in seeds/ before anything runs.

dbt tests catch a bad configuration only after a build; a person editing a seed needs to hear at once which
file, which row, which key and what is wrong. Every problem found is reported, not just the first.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SEEDS_DIR = PROJECT_ROOT / "seeds"
OPEN_END = 9999
SCORING_METHODS = {"efficacy", "target", "target_binary", "rank"}
ADJUSTMENT_TYPES = {"bonus", "deduction", "provisional_deduction", "veto"}

SEED_FILES = {
    "regions": "reference/regions.csv",
    "dimensions": "reference/dimensions.csv",
    "indicators": "reference/indicators.csv",
    "assessment_years": "config/assessment_years.csv",
    "assessment_classes": "config/assessment_classes.csv",
    "region_classes": "config/region_classes.csv",
    "indicator_rules": "config/indicator_rules.csv",
    "tier_quotas": "config/tier_quotas.csv",
    "advanced_county_quotas": "config/advanced_county_quotas.csv",
    "adjustments": "config/adjustments.csv",
    "unit_conversions": "config/unit_conversions.csv",
    "monitoring_targets": "config/monitoring_targets.csv",
    "warning_thresholds": "config/warning_thresholds.csv",
    "progress_awards": "config/progress_awards.csv",
    "rejection_reasons": "config/rejection_reasons.csv",
    "tier_names": "config/tier_names.csv",
    "warning_levels": "config/warning_levels.csv",
    "missing_value_markers": "config/missing_value_markers.csv",
    "scoring_parameters": "config/scoring_parameters.csv",
    "robustness_parameters": "config/robustness_parameters.csv",
    "robustness_method_switches": "config/robustness_method_switches.csv",
    "screening_parameters": "config/screening_parameters.csv",
}
REQUIRED_COLUMNS = {
    "regions": [
        "region_code",
        "region_name",
        "short_name",
        "level",
        "region_type",
        "parent_code",
        "valid_from_year",
        "valid_to_year",
    ],
    "dimensions": ["dimension_code", "dimension_name_zh"],
    "indicators": [
        "indicator_code",
        "indicator_name_zh",
        "dimension_code",
        "unit",
        "direction",
        "accumulation",
        "lead_department",
        "value_min",
        "value_max",
    ],
    "assessment_years": ["assessment_year"],
    "assessment_classes": ["level", "class_code"],
    "region_classes": ["year_from", "year_to", "region_code", "class_code"],
    "indicator_rules": [
        "year_from",
        "year_to",
        "level",
        "class_code",
        "indicator_code",
        "weight",
        "scoring_method",
        "target_value",
        "satisfactory_value",
        "not_allowed_value",
    ],
    "tier_quotas": ["year_from", "year_to", "level", "class_code", "first_tier_count", "second_tier_count"],
    "advanced_county_quotas": ["year_from", "year_to", "class_code", "advanced_quota", "selection_rule"],
    "adjustments": ["assessment_year", "region_code", "adjustment_type", "points", "reason"],
    "unit_conversions": ["from_unit", "to_unit", "factor"],
    "monitoring_targets": [
        "year_from",
        "year_to",
        "level",
        "class_code",
        "indicator_code",
        "target_kind",
        "target_value",
    ],
    "warning_thresholds": ["year_from", "year_to", "red_shortfall_pct", "yellow_shortfall_pct", "blue_shortfall_pct"],
    "progress_awards": ["year_from", "year_to", "level", "award_count", "selection_rule"],
    "rejection_reasons": ["reason_code", "sort_order", "description_zh", "description_en"],
    "tier_names": ["tier", "tier_name_zh", "tier_name_en", "sort_order"],
    "warning_levels": ["warning_level", "warning_level_zh", "sort_order", "is_warning"],
    "missing_value_markers": ["marker"],
    "scoring_parameters": ["year_from", "year_to", "efficacy_base", "efficacy_span", "rank_step"],
    "robustness_parameters": [
        "year_from",
        "year_to",
        "draw_count",
        "weight_spread",
        "method_switch_share",
        "random_seed",
        "lower_percentile",
        "upper_percentile",
        "robust_share",
    ],
    "robustness_method_switches": ["year_from", "year_to", "level", "indicator_code", "alternative_method"],
    "screening_parameters": [
        "year_from",
        "year_to",
        "skewness_threshold",
        "kurtosis_threshold",
        "collinearity_threshold",
        "negative_correlation_threshold",
    ],
}
# fct_rank_robustness numbers its draws 1..10,000 (four digits of a cross join, portable to Spark)
MAX_DRAWS = 10_000
# the codes the models give: tiers 1..3 (int_region_assessments_ranked), the 红黄蓝 levels and none
# (fct_monitoring_warnings); their names live in the seeds, and each code needs its row there
TIERS = {"1", "2", "3"}
WARNING_LEVELS = {"red", "yellow", "blue", "none"}


@dataclass(frozen=True)
class ConfigProblem:
    seed: str
    rows: str
    key: str
    problem: str

    def __str__(self) -> str:
        where = f"{self.seed}" + (f" row {self.rows}" if self.rows else "")
        return f"{where} [{self.key}]: {self.problem}"


class ConfigError(ValueError):
    def __init__(self, problems: list[ConfigProblem]):
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"the configuration in seeds/ has {len(problems)} problem(s):\n{lines}")


def _rows(frame: pd.DataFrame) -> str:
    lines = sorted(int(i) + 2 for i in frame.index)  # +1 for the header, +1 for 1-based lines
    if not lines:
        return ""
    if len(lines) > 1 and lines[-1] - lines[0] + 1 == len(lines):
        return f"{lines[0]}-{lines[-1]}"
    return ", ".join(str(n) for n in lines[:10]) + (" …" if len(lines) > 10 else "")


class _Checker:
    def __init__(self, seeds_dir: Path):
        self.seeds_dir = seeds_dir
        self.problems: list[ConfigProblem] = []
        self.frames: dict[str, pd.DataFrame] = {}

    def add(self, seed: str, rows: pd.DataFrame | str, key: str, problem: str) -> None:
        row_text = rows if isinstance(rows, str) else _rows(rows)
        self.problems.append(ConfigProblem(f"seeds/{SEED_FILES[seed]}", row_text, key, problem))

    def load(self) -> bool:
        for name, rel in SEED_FILES.items():
            path = self.seeds_dir / rel
            if not path.exists():
                self.add(name, "", "file", "the seed file is missing")
                continue
            frame = pd.read_csv(path, dtype=str, keep_default_na=False).map(str.strip)
            missing = [c for c in REQUIRED_COLUMNS[name] if c not in frame.columns]
            if missing:
                self.add(name, "1", "header", f"missing column(s): {', '.join(missing)}")
                continue
            self.frames[name] = frame
        return len(self.frames) == len(SEED_FILES)

    def integers(self, name: str, column: str, *, allow_blank: bool = False) -> pd.Series:
        frame = self.frames[name]
        values = pd.to_numeric(frame[column].replace("", pd.NA), errors="coerce")
        bad = frame[
            (values.isna() & ((frame[column] != "") | (not allow_blank))) | (values.notna() & (values % 1 != 0))
        ]
        for idx, row in bad.iterrows():
            self.add(name, frame.loc[[idx]], f"{column}={row[column]!r}", "must be a whole number")
        return values

    def numbers(self, name: str, column: str, *, allow_blank: bool = False) -> pd.Series:
        frame = self.frames[name]
        values = pd.to_numeric(frame[column].replace("", pd.NA), errors="coerce")
        bad = frame[values.isna() & ((frame[column] != "") | (not allow_blank))]
        for idx, row in bad.iterrows():
            self.add(name, frame.loc[[idx]], f"{column}={row[column]!r}", "must be a number")
        return values

    def unknown(self, name: str, column: str, allowed: set[str], what: str, key_cols: list[str]) -> None:
        frame = self.frames[name]
        for idx, row in frame[~frame[column].isin(allowed)].iterrows():
            key = ", ".join(f"{c}={row[c]}" for c in key_cols)
            self.add(name, frame.loc[[idx]], key, f"unknown {what} {row[column]!r}")

    def unknown_classes(self, name: str, class_keys: set[tuple[str, str]]) -> None:
        frame = self.frames[name]
        keys = pd.Series(list(zip(frame["level"], frame["class_code"], strict=True)), index=frame.index)
        for idx, row in frame[~keys.isin(class_keys)].iterrows():
            self.add(
                name,
                frame.loc[[idx]],
                f"level={row['level']}, class_code={row['class_code']}",
                "unknown class for this level (see assessment_classes)",
            )

    def blank(self, name: str, column: str, key_col: str) -> None:
        frame = self.frames[name]
        for idx, row in frame[frame[column] == ""].iterrows():
            self.add(name, frame.loc[[idx]], f"{key_col}={row[key_col]}", f"{column} is blank")

    def missing_codes(self, name: str, column: str, wanted: set[str], what: str) -> None:
        for code in sorted(wanted - set(self.frames[name][column])):
            self.add(name, "", f"{column}={code}", f"no row for the {what} {code!r} the models give")

    def duplicates(self, name: str, key_cols: list[str]) -> None:
        frame = self.frames[name]
        dup = frame[frame.duplicated(key_cols, keep=False)]
        for key, group in dup.groupby(key_cols, sort=True):
            key = key if isinstance(key, tuple) else (key,)
            self.add(
                name,
                group,
                ", ".join(f"{c}={v}" for c, v in zip(key_cols, key, strict=True)),
                "the key appears more than once",
            )

    def year_ranges(self, name: str, key_cols: list[str]) -> pd.DataFrame:
        """Expand year_from..year_to rows to one row per assessment year; report overlaps of the same key."""
        frame = self.frames[name].copy()
        frame["_from"] = self.integers(name, "year_from")
        frame["_to"] = self.integers(name, "year_to", allow_blank=True).fillna(OPEN_END)
        frame["_line"] = frame.index
        backwards = frame[frame["_from"] > frame["_to"]]
        for idx, row in backwards.iterrows():
            self.add(
                name,
                frame.loc[[idx]],
                f"year_from={row['year_from']}, year_to={row['year_to']}",
                "year_from is after year_to",
            )
        years = self.years.to_frame("assessment_year")
        expanded = frame.merge(years, how="cross")
        expanded = expanded[
            (expanded["assessment_year"] >= expanded["_from"]) & (expanded["assessment_year"] <= expanded["_to"])
        ]
        overlap = expanded[expanded.duplicated(key_cols + ["assessment_year"], keep=False)]
        for key, group in overlap.groupby(key_cols, sort=True):
            key = key if isinstance(key, tuple) else (key,)
            lines = frame.loc[sorted(set(group["_line"]))]
            self.add(
                name,
                lines,
                ", ".join(f"{c}={v}" for c, v in zip(key_cols, key, strict=True)),
                f"year ranges overlap in {sorted(set(group['assessment_year']))}",
            )
        return expanded.drop_duplicates(key_cols + ["assessment_year"])

    def run(self) -> list[ConfigProblem]:
        if not self.load():
            return self.problems
        f = self.frames
        years = self.integers("assessment_years", "assessment_year").dropna().astype(int)
        self.duplicates("assessment_years", ["assessment_year"])
        self.years = pd.Series(sorted(set(years)), dtype=int)

        # regions and their classes per year
        self.duplicates("regions", ["region_code"])
        self.unknown("regions", "level", {"city", "county"}, "level", ["region_code"])
        regions = f["regions"].copy()
        regions["_from"] = self.integers("regions", "valid_from_year")
        regions["_to"] = self.integers("regions", "valid_to_year", allow_blank=True).fillna(OPEN_END)
        cities = set(regions.loc[regions["level"] == "city", "region_code"])
        orphan = regions[(regions["level"] == "county") & ~regions["parent_code"].isin(cities)]
        for idx, row in orphan.iterrows():
            self.add(
                "regions",
                regions.loc[[idx]],
                f"region_code={row['region_code']}",
                f"parent_code {row['parent_code']!r} is not a prefecture city in this seed",
            )
        region_years = regions.merge(self.years.to_frame("assessment_year"), how="cross")
        region_years = region_years[
            (region_years["assessment_year"] >= region_years["_from"])
            & (region_years["assessment_year"] <= region_years["_to"])
        ]

        classes = f["assessment_classes"]
        self.duplicates("assessment_classes", ["level", "class_code"])
        class_keys = set(zip(classes["level"], classes["class_code"], strict=True))
        self.unknown("region_classes", "region_code", set(regions["region_code"]), "region", ["region_code"])
        self.unknown("region_classes", "class_code", set(classes["class_code"]), "class", ["region_code"])
        region_classes = self.year_ranges("region_classes", ["region_code"])
        own = region_years.merge(
            region_classes[["region_code", "assessment_year", "class_code"]],
            on=["region_code", "assessment_year"],
            how="left",
        )
        parent = region_classes[["region_code", "assessment_year", "class_code"]].rename(
            columns={"region_code": "parent_code", "class_code": "parent_class"}
        )
        own = own.merge(parent, on=["parent_code", "assessment_year"], how="left")
        own["class_code"] = own["class_code"].fillna(own["parent_class"])
        unclassed = own[own["class_code"].isna()]
        for (code, level), group in unclassed.groupby(["region_code", "level"]):
            self.add(
                "region_classes",
                "",
                f"region_code={code}",
                f"the {level} has no class in {sorted(set(group['assessment_year']))} "
                "(give the city, or the county itself, a class for those years)",
            )
        classified = own.dropna(subset=["class_code"])
        class_sizes = classified.groupby(["assessment_year", "level", "class_code"]).size().rename("class_size")

        # indicators
        self.duplicates("dimensions", ["dimension_code"])
        self.duplicates("indicators", ["indicator_code"])
        self.unknown(
            "indicators", "dimension_code", set(f["dimensions"]["dimension_code"]), "dimension", ["indicator_code"]
        )
        self.unknown("indicators", "direction", {"higher", "lower"}, "direction", ["indicator_code"])
        self.unknown("indicators", "accumulation", {"flow", "stock"}, "accumulation", ["indicator_code"])
        self.numbers("indicators", "value_min", allow_blank=True)
        self.numbers("indicators", "value_max", allow_blank=True)
        conversions = f["unit_conversions"]
        self.duplicates("unit_conversions", ["from_unit", "to_unit"])
        factor = self.numbers("unit_conversions", "factor")
        for idx, row in conversions[factor <= 0].iterrows():
            self.add(
                "unit_conversions",
                conversions.loc[[idx]],
                f"{row['from_unit']}→{row['to_unit']}",
                "factor must be positive",
            )
        identity = {fr for fr, to in zip(conversions["from_unit"], conversions["to_unit"], strict=True) if fr == to}
        self.unknown("indicators", "unit", identity, "unit (no identity row in unit_conversions)", ["indicator_code"])

        # rules: weights, methods, targets
        rules = f["indicator_rules"]
        self.unknown(
            "indicator_rules",
            "indicator_code",
            set(f["indicators"]["indicator_code"]),
            "indicator",
            ["level", "class_code", "indicator_code"],
        )
        self.unknown(
            "indicator_rules",
            "scoring_method",
            SCORING_METHODS,
            "scoring method",
            ["level", "class_code", "indicator_code"],
        )
        self.unknown_classes("indicator_rules", class_keys)
        weight = self.numbers("indicator_rules", "weight")
        target = self.numbers("indicator_rules", "target_value", allow_blank=True)
        self.numbers("indicator_rules", "satisfactory_value", allow_blank=True)
        self.numbers("indicator_rules", "not_allowed_value", allow_blank=True)
        for idx, row in rules[weight < 0].iterrows():
            self.add("indicator_rules", rules.loc[[idx]], row["indicator_code"], "weight must not be negative")
        needs_target = rules["scoring_method"].isin({"target", "target_binary"}) & target.isna()
        for idx, row in rules[needs_target].iterrows():
            self.add(
                "indicator_rules",
                rules.loc[[idx]],
                f"{row['year_from']}-{row['year_to']}, {row['level']}, {row['class_code']}, {row['indicator_code']}",
                f"scoring method {row['scoring_method']} needs a target_value",
            )
        half_bounds = (rules["satisfactory_value"] == "") != (rules["not_allowed_value"] == "")
        for idx, row in rules[half_bounds].iterrows():
            self.add(
                "indicator_rules",
                rules.loc[[idx]],
                row["indicator_code"],
                "give both satisfactory_value and not_allowed_value, or neither (peer best and worst)",
            )
        by_year = self.year_ranges("indicator_rules", ["level", "class_code", "indicator_code"])
        by_year["_weight"] = pd.to_numeric(by_year["weight"], errors="coerce")
        sums = by_year.groupby(["assessment_year", "level", "class_code"]).agg(
            weight_total=("_weight", "sum"), lines=("_line", lambda s: sorted(set(s)))
        )
        for (year, level, cls), row in sums.iterrows():
            if abs(row["weight_total"] - 100) > 1e-9:
                self.add(
                    "indicator_rules",
                    rules.loc[row["lines"]],
                    f"{year}, {level}, class {cls}",
                    f"weights sum to {row['weight_total']:g}, not 100",
                )
        for year, level, cls in class_sizes.index.difference(sums.index):
            self.add(
                "indicator_rules",
                "",
                f"{year}, {level}, class {cls}",
                "regions are in this class but no indicator rules apply to it",
            )

        # tier quotas and the advanced-county rule must fit the classes
        tiers = f["tier_quotas"]
        for col in ("first_tier_count", "second_tier_count"):
            self.integers("tier_quotas", col)
        tiers_by_year = self.year_ranges("tier_quotas", ["level", "class_code"])
        tiers_by_year = tiers_by_year.join(class_sizes, on=["assessment_year", "level", "class_code"])
        for _, row in tiers_by_year.iterrows():
            wanted = pd.to_numeric(row["first_tier_count"], errors="coerce") + pd.to_numeric(
                row["second_tier_count"], errors="coerce"
            )
            size = 0 if pd.isna(row["class_size"]) else int(row["class_size"])
            if pd.notna(wanted) and wanted > size:
                self.add(
                    "tier_quotas",
                    tiers.loc[[row["_line"]]],
                    f"{row['assessment_year']}, {row['level']}, class {row['class_code']}",
                    f"first + second tier quotas ({wanted:g}) exceed the class's {size} regions",
                )
        missing_quota = class_sizes.index.difference(
            tiers_by_year.set_index(["assessment_year", "level", "class_code"]).index
        )
        for year, level, cls in missing_quota:
            self.add("tier_quotas", "", f"{year}, {level}, class {cls}", "no tier quota for this class")

        advanced = f["advanced_county_quotas"]
        self.integers("advanced_county_quotas", "advanced_quota")
        self.unknown(
            "advanced_county_quotas",
            "selection_rule",
            {"best_total_in_class_without_veto"},
            "selection rule",
            ["class_code"],
        )
        adv_by_year = self.year_ranges("advanced_county_quotas", ["class_code"])
        adv_by_year = adv_by_year.assign(level="county").join(
            class_sizes, on=["assessment_year", "level", "class_code"]
        )
        for _, row in adv_by_year.iterrows():
            quota = pd.to_numeric(row["advanced_quota"], errors="coerce")
            size = 0 if pd.isna(row["class_size"]) else int(row["class_size"])
            if pd.notna(quota) and quota > size:
                self.add(
                    "advanced_county_quotas",
                    advanced.loc[[row["_line"]]],
                    f"{row['assessment_year']}, class {row['class_code']}",
                    f"advanced quota ({quota:g}) exceeds the class's {size} counties",
                )

        # monitoring: targets for known indicators and classes, thresholds in order, one set per year
        self.unknown(
            "monitoring_targets",
            "indicator_code",
            set(f["indicators"]["indicator_code"]),
            "indicator",
            ["level", "class_code", "indicator_code"],
        )
        self.unknown(
            "monitoring_targets",
            "target_kind",
            {"annual_level", "growth_over_previous_year"},
            "target kind",
            ["level", "class_code", "indicator_code"],
        )
        self.unknown_classes("monitoring_targets", class_keys)
        self.numbers("monitoring_targets", "target_value")
        self.year_ranges("monitoring_targets", ["level", "class_code", "indicator_code"])
        thresholds = f["warning_thresholds"]
        red = self.numbers("warning_thresholds", "red_shortfall_pct")
        yellow = self.numbers("warning_thresholds", "yellow_shortfall_pct")
        blue = self.numbers("warning_thresholds", "blue_shortfall_pct")
        for idx in thresholds[~((red >= yellow) & (yellow >= blue) & (blue >= 0))].index:
            self.add(
                "warning_thresholds",
                thresholds.loc[[idx]],
                "thresholds",
                "need red ≥ yellow ≥ blue ≥ 0 (shortfalls in % of the pro-rata target)",
            )
        self.frames["warning_thresholds"]["scope"] = "all"
        covered = set(self.year_ranges("warning_thresholds", ["scope"])["assessment_year"])
        uncovered = sorted(set(self.years) - covered)
        if uncovered:
            self.add("warning_thresholds", "", f"{_year_span(uncovered)}", "no warning thresholds for these years")
        self.unknown("progress_awards", "level", {"city", "county"}, "level", ["level"])
        self.unknown("progress_awards", "selection_rule", {"largest_rise_in_class_rank"}, "selection rule", ["level"])
        self.integers("progress_awards", "award_count")
        self.year_ranges("progress_awards", ["level"])

        # rule vocabularies: reason codes, tier names, warning levels, missing-value markers
        self.duplicates("rejection_reasons", ["reason_code"])
        self.integers("rejection_reasons", "sort_order")
        self.duplicates("rejection_reasons", ["sort_order"])
        for column in ("reason_code", "description_zh", "description_en"):
            self.blank("rejection_reasons", column, "reason_code")
        self.duplicates("tier_names", ["tier"])
        self.unknown("tier_names", "tier", TIERS, "tier", ["tier"])
        self.missing_codes("tier_names", "tier", TIERS, "tier")
        self.integers("tier_names", "sort_order")
        self.blank("tier_names", "tier_name_zh", "tier")
        self.duplicates("warning_levels", ["warning_level"])
        self.unknown("warning_levels", "warning_level", WARNING_LEVELS, "warning level", ["warning_level"])
        self.missing_codes("warning_levels", "warning_level", WARNING_LEVELS, "warning level")
        self.integers("warning_levels", "sort_order")
        self.unknown("warning_levels", "is_warning", {"true", "false"}, "is_warning value", ["warning_level"])
        self.blank("warning_levels", "warning_level_zh", "warning_level")
        self.duplicates("missing_value_markers", ["marker"])

        # scoring constants: one set per assessment year, the efficacy coefficient within 0..100
        params = f["scoring_parameters"]
        base = self.numbers("scoring_parameters", "efficacy_base")
        span = self.numbers("scoring_parameters", "efficacy_span")
        step = self.numbers("scoring_parameters", "rank_step")
        for idx in params[~((base >= 0) & (span > 0) & (base + span <= 100))].index:
            self.add(
                "scoring_parameters",
                params.loc[[idx]],
                f"efficacy_base={params.at[idx, 'efficacy_base']}, efficacy_span={params.at[idx, 'efficacy_span']}",
                "need efficacy_base ≥ 0, efficacy_span > 0 and base + span ≤ 100",
            )
        for idx in params[~((step > 0) & (step <= 1))].index:
            self.add(
                "scoring_parameters",
                params.loc[[idx]],
                f"rank_step={params.at[idx, 'rank_step']}",
                "rank_step must be above 0 and at most 1",
            )
        self.frames["scoring_parameters"]["scope"] = "all"
        covered = set(self.year_ranges("scoring_parameters", ["scope"])["assessment_year"])
        uncovered = sorted(set(self.years) - covered)
        if uncovered:
            self.add("scoring_parameters", "", f"{_year_span(uncovered)}", "no scoring parameters for these years")

        self._check_analysis_parameters()

        # adjustments name a region of their year
        adjustments = f["adjustments"]
        self.unknown(
            "adjustments", "adjustment_type", ADJUSTMENT_TYPES, "adjustment type", ["assessment_year", "region_code"]
        )
        points = self.numbers("adjustments", "points")
        for idx, row in adjustments[points < 0].iterrows():
            self.add(
                "adjustments",
                adjustments.loc[[idx]],
                f"{row['assessment_year']}, {row['region_code']}",
                "points must not be negative (the adjustment_type says which way they count)",
            )
        adj_year = pd.to_numeric(adjustments["assessment_year"], errors="coerce")
        existing = set(zip(region_years["region_code"], region_years["assessment_year"], strict=True))
        for idx, row in adjustments.iterrows():
            if (row["region_code"], adj_year[idx]) not in existing:
                self.add(
                    "adjustments",
                    adjustments.loc[[idx]],
                    f"{row['assessment_year']}, {row['region_code']}",
                    "no such region in that assessment year",
                )
        return self.problems

    def _check_analysis_parameters(self) -> None:
        """The robustness draws and the screening thresholds (analysis only, never in the score): values in range,
        at most one row per year; a year without a row simply has no robustness analysis."""
        name = "robustness_parameters"
        params = self.frames[name]
        draws = self.integers(name, "draw_count")
        spread = self.numbers(name, "weight_spread")
        share = self.numbers(name, "method_switch_share")
        self.integers(name, "random_seed")
        low = self.integers(name, "lower_percentile")
        high = self.integers(name, "upper_percentile")
        robust = self.numbers(name, "robust_share")
        rules = [
            (~((draws >= 1) & (draws <= MAX_DRAWS)), "draw_count", f"must be 1 to {MAX_DRAWS:,}"),
            (~((spread >= 0) & (spread < 1)), "weight_spread", "must be at least 0 and below 1"),
            (~((share >= 0) & (share <= 1)), "method_switch_share", "must be within 0 and 1"),
            (
                ~((low >= 1) & (low <= 50) & (high >= 50) & (high <= 100)),
                "lower_percentile",
                "need 1 ≤ lower_percentile ≤ 50 ≤ upper_percentile ≤ 100",
            ),
            (~((robust > 0) & (robust <= 1)), "robust_share", "must be above 0 and at most 1"),
        ]
        for bad, column, problem in rules:
            for idx in params[bad].index:
                self.add(name, params.loc[[idx]], f"{column}={params.at[idx, column]}", problem)
        params["scope"] = "all"
        self.year_ranges(name, ["scope"])

        name = "robustness_method_switches"
        self.unknown(name, "alternative_method", SCORING_METHODS, "scoring method", ["level", "indicator_code"])
        self.unknown(name, "level", {"city", "county"}, "level", ["indicator_code"])
        self.unknown(name, "indicator_code", set(self.frames["indicators"]["indicator_code"]), "indicator", ["level"])
        self.year_ranges(name, ["level", "indicator_code"])

        name = "screening_parameters"
        params = self.frames[name]
        for column in REQUIRED_COLUMNS[name][2:]:
            self.numbers(name, column)
        params["scope"] = "all"
        self.year_ranges(name, ["scope"])


def _year_span(years: list[int]) -> str:
    years = sorted(years)
    if len(years) > 1 and years[-1] - years[0] + 1 == len(years):
        return f"{years[0]}-{years[-1]}"
    return ", ".join(str(y) for y in years)


def _merge_years(problems: list[ConfigProblem]) -> list[ConfigProblem]:
    """One line for the same problem repeated over several years ('2018-2024, county, class I')."""
    merged: dict[tuple[str, str, str, str], list[int]] = {}
    order: list[tuple[str, str, str, str] | ConfigProblem] = []
    for p in problems:
        head, _, rest = p.key.partition(", ")
        if head.isdigit() and len(head) == 4 and rest:
            group = (p.seed, p.rows, rest, p.problem)
            if group not in merged:
                merged[group] = []
                order.append(group)
            merged[group].append(int(head))
        else:
            order.append(p)
    out = []
    for item in order:
        if isinstance(item, ConfigProblem):
            out.append(item)
        else:
            seed, rows, rest, problem = item
            out.append(ConfigProblem(seed, rows, f"{_year_span(merged[item])}, {rest}", problem))
    return out


def check_config(seeds_dir: Path = DEFAULT_SEEDS_DIR) -> list[ConfigProblem]:
    return _merge_years(_Checker(seeds_dir).run())


def validate_config(seeds_dir: Path = DEFAULT_SEEDS_DIR) -> None:
    """Raise ConfigError listing every problem, or return quietly."""
    problems = check_config(seeds_dir)
    if problems:
        raise ConfigError(problems)
