{#- Dimension indices: each dimension's indicator indices combined by its configured weighted mean (arithmetic or
    geometric, macros/composite.sql); null when any of its indicators has no index. -#}

select
    {{ hqd.composite_key(['scores.index_code', 'scores.unit_code', 'scores.year', 'scores.dimension_code']) }}
        as composite_dimension_score_key,
    scores.index_code,
    scores.unit_code,
    any_value(scores.unit_name) as unit_name,
    any_value(scores.is_aggregate) as is_aggregate,
    scores.year,
    scores.dimension_code,
    any_value(dimensions.weight) as weight,
    any_value(dimensions.indicator_aggregation) as indicator_aggregation,
    count(*) as indicators_count,
    count(scores.indicator_index) as indicators_scored,
    {{ hqd.composite_weighted_mean('dimensions.indicator_aggregation', 'scores.indicator_index', 'scores.weight') }}
        as dimension_index
from {{ ref('fct_composite_indicator_scores') }} as scores
inner join {{ ref('composite_dimensions') }} as dimensions
    on
        scores.index_code = dimensions.index_code
        and scores.dimension_code = dimensions.dimension_code
group by scores.index_code, scores.unit_code, scores.year, scores.dimension_code
