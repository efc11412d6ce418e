-- The advanced list has exactly the configured number per class and never a vetoed county.
{{ config(meta={'dagster': {'ref': {'name': 'fct_advanced_counties'}}}) }}
with selected as (

    select
        assessment_year,
        class_code,
        count(*) as selected_count
    from {{ ref('fct_advanced_counties') }}
    group by assessment_year, class_code

),

expected as (

    select
        years.assessment_year,
        quotas.class_code,
        quotas.advanced_quota
    from {{ ref('assessment_years') }} as years
    inner join {{ ref('advanced_county_quotas') }} as quotas
        on {{ hqd.in_year_range('years.assessment_year', 'quotas') }}

),

mismatched as (

    select
        expected.assessment_year,
        expected.class_code,
        'count' as problem
    from expected
    left join selected
        on expected.assessment_year = selected.assessment_year
            and expected.class_code = selected.class_code
    where coalesce(selected.selected_count, 0) <> expected.advanced_quota

),

vetoed as (

    select
        advanced.assessment_year,
        advanced.class_code,
        'vetoed county selected' as problem
    from {{ ref('fct_advanced_counties') }} as advanced
    inner join {{ ref('fct_region_assessment') }} as assessments
        on advanced.assessment_year = assessments.assessment_year
            and advanced.region_code = assessments.region_code
    where assessments.is_vetoed

)

select * from mismatched
union all
select * from vetoed
