-- Screening for analysts (issue 15 item 4), never in the official score: per (year, region) how many of the
-- indicators its rules assess it on it reported (COINr's data availability). A missing value scores 0 in the
-- official result; this mart shows where that happened.
-- Incremental by year like fct_indicator_scores, its only input (a quarter's files rebuild nothing here).
{{ config(materialized=hqd.incremental_materialization(), unique_key='assessment_year', rebuilt_on='annual_values') }}
with

scores as (

    select * from {{ ref('fct_indicator_scores') }}
    where {{ hqd.years_to_rebuild() }}

),

counted as (

    select
        assessment_year,
        region_code,
        level,
        class_code,
        count(*) as indicators_assessed,
        sum(case when is_value_missing then 0 else 1 end) as values_reported
    from scores
    group by assessment_year, region_code, level, class_code

),

final as (

    select
        {{ hqd.composite_key(['assessment_year', 'region_code']) }} as region_availability_key,
        assessment_year,
        region_code,
        level,
        class_code,
        cast(indicators_assessed as integer) as indicators_assessed,
        cast(values_reported as integer) as values_reported,
        cast(indicators_assessed - values_reported as integer) as values_missing,
        cast({{ hqd.divide('values_reported', 'indicators_assessed') }} as {{ hqd.type_measure() }})
            as availability_share
    from counted

)

select * from final
