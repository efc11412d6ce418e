-- The office publishes exactly the configured number of regions in the first and second tiers per class.
{{ config(meta={'dagster': {'ref': {'name': 'fct_region_assessment'}}}) }}
with counts as (

    select
        assessment_year,
        level,
        class_code,
        max(class_size) as class_size,
        sum(case when tier = 1 then 1 else 0 end) as first_tier,
        sum(case when tier = 2 then 1 else 0 end) as second_tier
    from {{ ref('fct_region_assessment') }}
    group by assessment_year, level, class_code

)

select counts.*
from counts
inner join {{ ref('tier_quotas') }} as quotas
    on counts.level = quotas.level
        and counts.class_code = quotas.class_code
        and {{ hqd.in_year_range('counts.assessment_year', 'quotas') }}
where counts.first_tier <> quotas.first_tier_count
    or counts.second_tier <> quotas.second_tier_count
