{#- Every configured indicator of every composite index, per unit and year: the value and its normalised
    indicator index (macros/composite.sql). A unit-year lacking the indicator keeps a row with a null index, so
    its dimension and index are null too (nothing is imputed). z-scores standardise within the year's units,
    aggregates (regions, world) left out of the mean and standard deviation. -#}

with unit_years as (
    select distinct
        index_code,
        unit_code,
        unit_name,
        is_aggregate,
        year
    from {{ ref('int_composite_input_values') }}
),

assessed as (
    select
        unit_years.index_code,
        unit_years.unit_code,
        unit_years.unit_name,
        unit_years.is_aggregate,
        unit_years.year,
        indicators.indicator_code,
        indicators.dimension_code,
        indicators.weight,
        indicators.method,
        indicators.goalpost_min,
        indicators.goalpost_max,
        indicators.is_capped,
        indicators.is_log_transformed,
        indicators.target_value,
        indicators.direction,
        input_values.indicator_value
    from unit_years
    inner join {{ ref('composite_indicators') }} as indicators
        on unit_years.index_code = indicators.index_code
    left join {{ ref('int_composite_input_values') }} as input_values
        on
            unit_years.index_code = input_values.index_code
            and unit_years.unit_code = input_values.unit_code
            and unit_years.year = input_values.year
            and indicators.indicator_code = input_values.indicator_code
),

peer_statistics as (
    select
        *,
        avg(case when not is_aggregate then indicator_value end)
            over (partition by index_code, year, indicator_code) as peer_mean,
        stddev_samp(case when not is_aggregate then indicator_value end)
            over (partition by index_code, year, indicator_code) as peer_sd
    from assessed
)

select
    {{ hqd.composite_key(['index_code', 'unit_code', 'year', 'indicator_code']) }} as composite_indicator_score_key,
    index_code,
    unit_code,
    unit_name,
    is_aggregate,
    year,
    dimension_code,
    indicator_code,
    weight,
    method,
    direction,
    indicator_value,
    indicator_value is null as is_value_missing,
    case
        when method = 'goalposts' then {{ hqd.composite_goalposts('indicator_value') }}
        when method = 'z_score' then {{ hqd.composite_z_score('indicator_value', 'peer_mean', 'peer_sd') }}
        when method = 'distance_to_target' then {{ hqd.composite_distance_to_target('indicator_value') }}
    end as indicator_index
from peer_statistics
