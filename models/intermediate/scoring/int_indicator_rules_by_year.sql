-- The configured rules (weight, method, target, fixed efficacy bounds) spelled out for each assessment year,
-- with the year's scoring constants (efficacy base and span, rank step) from scoring_parameters.
-- In a scenario run the rules are the scenario's effective ones (hqd.rules_source, macros/scenarios.sql).
with

rules as (

    {{ hqd.rules_source(
        'indicator_rules',
        keys=['level', 'class_code', 'indicator_code'],
        values=['weight', 'scoring_method', 'target_value', 'satisfactory_value', 'not_allowed_value'],
        scenario_seed='scenario_indicator_rules',
        droppable=true
    ) }}

),

assessment_years as (

    select assessment_year from {{ ref('assessment_years') }}

),

scoring_parameters as (

    {{ hqd.rules_source('scoring_parameters', keys=[], values=['efficacy_base', 'efficacy_span', 'rank_step']) }}

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
