-- 方案测算: per scenario, assessed year and region, the official result against the scenario's (built by the same
-- models into scenario_<code>_marts): total, rank in class, province rank, tier and advanced status, with a flag
-- for each change. Built only by a scenario run (`hqd scenario run`, var `scenario`); each run replaces its
-- scenario's rows, so scenarios accumulate beside each other. Outside a scenario run it selects nothing.
-- depends_on: {{ ref('fct_region_assessment') }}
-- depends_on: {{ ref('fct_advanced_counties') }}
-- depends_on: {{ ref('scenarios') }}
-- The post-hook drops the rows of scenarios no longer configured in scenarios.csv.
{{ config(
    materialized=('table' if target.type == 'spark' else 'incremental'),
    unique_key='scenario_code',
    post_hook="delete from {{ this }} where scenario_code not in (select scenario_code from {{ ref('scenarios') }})"
) }}
with

scenario_assessments as (

    select * from {{ ref('fct_region_assessment') }}

),

scenario_advanced as (

    select
        assessment_year,
        region_code
    from {{ ref('fct_advanced_counties') }}

),

official_assessments as (

    select * from {{ hqd.official_relation('fct_region_assessment') }}
    where assessment_year in (select scenario_assessments.assessment_year from scenario_assessments)

),

official_advanced as (

    select
        assessment_year,
        region_code
    from {{ hqd.official_relation('fct_advanced_counties') }}

),

compared as (

    select
        coalesce(official_result.assessment_year, scenario_result.assessment_year) as assessment_year,
        coalesce(official_result.region_code, scenario_result.region_code) as region_code,
        coalesce(official_result.level, scenario_result.level) as level,  -- noqa: RF04
        coalesce(official_result.class_code, scenario_result.class_code) as class_code,
        official_result.total_score as official_total_score,
        scenario_result.total_score as scenario_total_score,
        official_result.rank_in_class as official_rank_in_class,
        scenario_result.rank_in_class as scenario_rank_in_class,
        official_result.province_rank as official_province_rank,
        scenario_result.province_rank as scenario_province_rank,
        official_result.tier as official_tier,
        scenario_result.tier as scenario_tier,
        case
            when coalesce(official_result.level, scenario_result.level) = 'county'
                then official_advanced.region_code is not null
        end as is_official_advanced,
        case
            when coalesce(official_result.level, scenario_result.level) = 'county'
                then scenario_advanced.region_code is not null
        end as is_scenario_advanced
    from official_assessments as official_result
    full outer join scenario_assessments as scenario_result
        on official_result.assessment_year = scenario_result.assessment_year
            and official_result.region_code = scenario_result.region_code
    left join official_advanced
        on official_result.assessment_year = official_advanced.assessment_year
            and official_result.region_code = official_advanced.region_code
    left join scenario_advanced
        on scenario_result.assessment_year = scenario_advanced.assessment_year
            and scenario_result.region_code = scenario_advanced.region_code

),

flagged as (

    select
        compared.*,
        {{ hqd.null_safe_differs('compared.official_total_score', 'compared.scenario_total_score') }}
            as has_total_changed,
        {{ hqd.null_safe_differs('compared.official_rank_in_class', 'compared.scenario_rank_in_class') }}
        or {{ hqd.null_safe_differs('compared.official_province_rank', 'compared.scenario_province_rank') }}
            as has_rank_changed,
        {{ hqd.null_safe_differs('compared.official_tier', 'compared.scenario_tier') }} as has_tier_changed,
        {{ hqd.null_safe_differs('compared.is_official_advanced', 'compared.is_scenario_advanced') }}
            as has_advanced_changed
    from compared

),

final as (

    select
        {{ hqd.composite_key(["'" ~ hqd.scenario_code() ~ "'", 'assessment_year', 'region_code']) }}
            as scenario_change_key,
        cast('{{ hqd.scenario_code() }}' as {{ api.Column.translate_type('string') }}) as scenario_code,
        assessment_year,
        region_code,
        level,
        class_code,
        official_total_score,
        scenario_total_score,
        cast(scenario_total_score - official_total_score as {{ hqd.type_measure() }}) as total_score_change,
        official_rank_in_class,
        scenario_rank_in_class,
        cast(official_rank_in_class - scenario_rank_in_class as integer) as rank_in_class_change,
        official_province_rank,
        scenario_province_rank,
        official_tier,
        scenario_tier,
        is_official_advanced,
        is_scenario_advanced,
        has_total_changed,
        has_rank_changed,
        has_tier_changed,
        has_advanced_changed,
        has_total_changed or has_rank_changed or has_tier_changed or has_advanced_changed as has_any_change
    from flagged
    -- outside a scenario run there is nothing to compare
    where {{ '1 = 1' if hqd.scenario_code() else '1 = 0' }}

)

select * from final
