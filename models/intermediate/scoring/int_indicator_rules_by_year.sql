-- The configured rules (weight, method, target, fixed efficacy bounds) spelled out for each assessment year,
-- with the year's scoring constants (efficacy base and span, rank step) from scoring_parameters.
with

rules as (

    select * from {{ ref('indicator_rules') }}

),

assessment_years as (

    select assessment_year from {{ ref('assessment_years') }}

),

scoring_parameters as (

    select * from {{ ref('scoring_parameters') }}

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
        rules.not_allowed_value,
        scoring_parameters.efficacy_base,
        scoring_parameters.efficacy_span,
        scoring_parameters.rank_step
    from rules
    inner join assessment_years
        on {{ hqd.in_year_range('assessment_years.assessment_year', 'rules') }}
    left join scoring_parameters
        on {{ hqd.in_year_range('assessment_years.assessment_year', 'scoring_parameters') }}

)

select * from by_year
