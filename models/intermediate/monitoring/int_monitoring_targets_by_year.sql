-- The configured monitoring targets spelled out per assessment year.
with

targets as (

    select * from {{ ref('monitoring_targets') }}

),

assessment_years as (

    select assessment_year from {{ ref('assessment_years') }}

),

by_year as (

    select
        assessment_years.assessment_year,
        targets.level,
        targets.class_code,
        targets.indicator_code,
        targets.target_kind,
        targets.target_value
    from targets
    inner join assessment_years
        on {{ hqd.in_year_range('assessment_years.assessment_year', 'targets') }}

)

select * from by_year
