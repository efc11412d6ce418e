-- 红绿双色 analysis: each current value (annual and year-to-date quarterly) against its class average
-- (green better, red worse, by direction) and against the same period of the previous year.
{{ config(materialized=hqd.incremental_materialization(), unique_key='assessment_year') }}
with

assessed as (

    select * from {{ ref('int_region_indicators_assessed') }}
    where {{ hqd.years_to_rebuild() }}

),

previous_year as (

    select * from {{ ref('int_previous_period_values') }}
    where {{ hqd.years_to_rebuild() }}

),

current_values as (

    select * from {{ ref('fct_indicator_values') }}
    where is_current and indicator_value is not null and {{ hqd.years_to_rebuild() }}

),

assessed_values as (

    select
        current_values.period_code,
        current_values.period_type,
        current_values.assessment_year,
        current_values.quarter,
        current_values.region_code,
        assessed.level,
        assessed.class_code,
        current_values.indicator_code,
        assessed.direction,
        current_values.indicator_value
    from current_values
    inner join assessed
        on
            current_values.region_code = assessed.region_code
            and current_values.assessment_year = assessed.assessment_year
            and current_values.indicator_code = assessed.indicator_code

),

compared as (

    select
        assessed_values.*,
        avg(assessed_values.indicator_value) over (
            partition by
                assessed_values.period_code, assessed_values.level, assessed_values.class_code,
                assessed_values.indicator_code
        ) as class_average_value,
        previous_year.previous_year_value as last_year_value
    from assessed_values
    left join previous_year
        on
            assessed_values.region_code = previous_year.region_code
            and assessed_values.indicator_code = previous_year.indicator_code
            and assessed_values.assessment_year = previous_year.assessment_year
            and coalesce(assessed_values.quarter, 0) = coalesce(previous_year.quarter, 0)

),

final as (

    select
        {{ hqd.composite_key(['period_code', 'region_code', 'indicator_code']) }} as two_colour_key,
        period_code,
        period_type,
        assessment_year,
        quarter,
        region_code,
        level,
        class_code,
        indicator_code,
        direction,
        cast(indicator_value as {{ hqd.type_measure() }}) as indicator_value,
        cast(class_average_value as {{ hqd.type_measure() }}) as class_average_value,
        case
            when indicator_value = class_average_value then 'equal'
            when (direction = 'higher') = (indicator_value > class_average_value) then 'green'
            else 'red'
        end as class_colour,
        cast(last_year_value as {{ hqd.type_measure() }}) as last_year_value,
        cast(indicator_value - last_year_value as {{ hqd.type_measure() }}) as change_on_last_year,
        case
            when last_year_value is null then 'no_previous_year'
            when indicator_value = last_year_value then 'unchanged'
            when (direction = 'higher') = (indicator_value > last_year_value) then 'improved'
            else 'declined'
        end as trend_on_last_year
    from compared

)

select * from final
