-- The assessment grid: every (year, region, indicator) the year's rules assess for the region's level and
-- class, with the rule and the indicator's attributes. Scoring, monitoring and the two-colour analysis all
-- start from it, so they agree on what is assessed.
with

regions as (

    select * from {{ ref('int_regions_classified') }}

),

rules as (

    select * from {{ ref('int_indicator_rules_by_year') }}

),

indicators as (

    select * from {{ ref('indicators') }}

),

assessed as (

    select
        regions.assessment_year,
        regions.region_code,
        regions.level,
        regions.class_code,
        rules.indicator_code,
        indicators.dimension_code,
        indicators.lead_department,
        indicators.direction,
        indicators.accumulation,
        rules.scoring_method,
        rules.weight,
        rules.target_value,
        rules.satisfactory_value,
        rules.not_allowed_value,
        rules.efficacy_base,
        rules.efficacy_span,
        rules.rank_step
    from regions
    inner join rules
        on
            regions.assessment_year = rules.assessment_year
            and regions.level = rules.level
            and regions.class_code = rules.class_code
    inner join indicators
        on rules.indicator_code = indicators.indicator_code

)

select * from assessed
