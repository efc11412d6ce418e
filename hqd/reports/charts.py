"""Charts as inline SVG, computed here and drawn by the templates: nothing is fetched when a page is opened.

No charting library: the pages need one bar chart kind and one map, and writing their SVG directly renders all
108 letters in well under a second (a Vega renderer such as vl-convert costs tens of milliseconds per chart and a
70 MB wheel), prints sharply, and lets the render test read every county's colour from the DOM.

The map is Jiangsu's 95 county-level divisions (geo/jiangsu_counties.geojson, see geo/SOURCE.md), projected
equirectangularly with the longitude scaled by cos(mid latitude): at 31–35 °N over 5.6 ° of longitude the
distortion is invisible at page size.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from importlib import resources

import pandas as pd

MAP_WIDTH = 520.0

TIER_COLOURS = {1: "#1f5fa8", 2: "#76a9d8", 3: "#d6e4f2"}
VETO_COLOUR = "#9e9e9e"
TOTAL_COLOURS = ["#fff0d9", "#fdcc8a", "#fc8d59", "#e34a33", "#b30000"]  # five equal bins, low → high
NO_DATA = "#ffffff"


@dataclass(frozen=True)
class County:
    adcode: str
    name: str
    path: str  # SVG path data in map coordinates


@dataclass(frozen=True)
class MapShape:
    width: float
    height: float
    counties: tuple[County, ...]


@cache
def jiangsu_map() -> MapShape:
    """The 95 counties as SVG paths, projected once per process."""
    text = resources.files("hqd.reports").joinpath("geo/jiangsu_counties.geojson").read_text(encoding="utf-8")
    features = json.loads(text)["features"]
    rings_by_county = []
    lons, lats = [], []
    for feature in features:
        geometry = feature["geometry"]
        polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
        rings = [ring for polygon in polygons for ring in polygon]
        rings_by_county.append((feature["properties"], rings))
        for ring in rings:
            lons.extend(p[0] for p in ring)
            lats.extend(p[1] for p in ring)
    west, east, south, north = min(lons), max(lons), min(lats), max(lats)
    kx = math.cos(math.radians((south + north) / 2))
    scale = MAP_WIDTH / ((east - west) * kx)
    counties = []
    for properties, rings in rings_by_county:
        parts = []
        for ring in rings:
            points = [((lon - west) * kx * scale, (north - lat) * scale) for lon, lat in ring]
            parts.append("M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in points) + "Z")
        counties.append(County(properties["adcode"], properties["name"], "".join(parts)))
    return MapShape(MAP_WIDTH, (north - south) * scale, tuple(counties))


@dataclass
class MapArea:
    """One polygon of a map: its fill (a colour, or a pattern id when two regions of the year share it) and
    the regions drawn in it, for its tooltip."""

    adcode: str
    path: str
    fill: str
    title: str
    regions: list[dict]
    outlined: bool = False
    pattern: tuple[str, ...] = ()


def _areas(name: str, shape: MapShape, counties: pd.DataFrame, colour, label) -> list[MapArea]:
    by_polygon = {code: group.to_dict("records") for code, group in counties.groupby("adcode")}
    areas = []
    for county in shape.counties:
        regions = by_polygon.get(county.adcode, [])
        colours = tuple(dict.fromkeys(colour(r) for r in regions))
        if not regions:
            fill, pattern = NO_DATA, ()
        elif len(colours) == 1:
            fill, pattern = colours[0], ()
        else:  # 2018–2020: 崇川区 and 港闸区 both lie in today's 崇川区 320613: stripes of both colours
            fill, pattern = f"url(#stripes-{name}-{county.adcode})", colours
        title = "；".join(f"{r['region_name']}（{r['city_name']}）{label(r)}" for r in regions) or county.name
        areas.append(
            MapArea(
                county.adcode,
                county.path,
                fill,
                title,
                regions,
                outlined=any(r.get("is_advanced") for r in regions),
                pattern=pattern,
            )
        )
    return areas


def tier_map(counties: pd.DataFrame) -> dict:
    shape = jiangsu_map()

    def colour(r):
        return VETO_COLOUR if r["is_vetoed"] else TIER_COLOURS.get(int(r["tier"]), NO_DATA)

    def label(r):
        return f"{r['tier_name_zh']}，类内第{r['rank_in_class']}名" + ("，一票否决" if r["is_vetoed"] else "")

    legend = [(c, name) for c, name in zip(TIER_COLOURS.values(), ("第一等次", "第二等次", "第三等次"), strict=True)]
    if counties["is_vetoed"].any():
        legend.append((VETO_COLOUR, "一票否决"))
    return {"name": "tier", "shape": shape, "areas": _areas("tier", shape, counties, colour, label), "legend": legend}


def total_map(counties: pd.DataFrame) -> dict:
    """Counties coloured by total in five equal-width bins between the year's lowest and highest total."""
    shape = jiangsu_map()
    low, high = float(counties["total_score"].min()), float(counties["total_score"].max())
    width = (high - low) / len(TOTAL_COLOURS) or 1.0

    def colour(r):
        return TOTAL_COLOURS[min(int((r["total_score"] - low) / width), len(TOTAL_COLOURS) - 1)]

    def label(r):
        return f"总分 {r['total_score']:.2f}"

    legend = [(c, f"{low + i * width:.1f}–{low + (i + 1) * width:.1f}") for i, c in enumerate(TOTAL_COLOURS)]
    return {"name": "total", "shape": shape, "areas": _areas("total", shape, counties, colour, label), "legend": legend}


def dimension_bars(rows: list[dict]) -> dict:
    """A region's dimension subtotals against its class's average and best, every bar on one scale (points),
    the grey track being the dimension's full marks."""
    label_width, bar_width, row_height = 120.0, 360.0, 30.0
    top = max((r["dimension_weight"] or r["class_best"] or 0) for r in rows) or 1.0
    scale = bar_width / top
    bars = []
    for i, r in enumerate(rows):
        bars.append(
            {
                **r,
                "y": 26 + i * row_height,
                "full": (r["dimension_weight"] or 0) * scale,
                "value": (r["points"] or 0) * scale,
                "average": (r["class_average"] or 0) * scale,
                "best": (r["class_best"] or 0) * scale,
            }
        )
    return {
        "width": label_width + bar_width + 190,
        "height": 26 + len(rows) * row_height + 8,
        "x0": label_width,
        "bars": bars,
    }
