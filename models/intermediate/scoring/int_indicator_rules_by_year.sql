-- The configured rules (weight, method, target, fixed efficacy bounds) spelled out for each assessment year.
with

rules as (

    select * from {{ ref('indicator_rules') }}

),

assessment_years as (

    select assessment_year from {{ ref('assessment_years') }}

),

by_year as (

    select
        assessment_years.assessment_year,
        rules.level,
        rules.class_code,
        rules.indicator_code,
        rules.weight,
        rules.scoring_method,
        rules.target_value,
        rules.satisfactory_value,
        rules.not_allowed_value
    from rules
    inner join assessment_years
        on {{ hqd.in_year_range('assessment_years.assessment_year', 'rules') }}

)

select * from by_year
