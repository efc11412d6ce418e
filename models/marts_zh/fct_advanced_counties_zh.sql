-- 高质量发展先进县(市、区) for BI: each year's advanced counties with their names that year, their city, class,
-- rank, tier and streak, Chinese labels with sort keys. A view over the published marts.
with

advanced as (

    select * from {{ hqd.published_ref('fct_advanced_counties') }}

),

final as (

    select
        advanced.advanced_county_key,
        advanced.assessment_year,
        advanced.region_code,
        region.region_name,
        city.region_name as city_name,
        advanced.class_code,
        class_label.label_zh as class_name_zh,
        class_label.sort_order as class_sort_order,
        advanced.rank_in_class,
        advanced.province_rank,
        {{ hqd.display_number('advanced.total_score') }} as total_score,
        tier_label.label_zh as tier_name_zh,
        tier_label.sort_order as tier_sort_order,
        advanced.position_among_eligible,
        advanced.advanced_quota,
        rule_label.label_zh as selection_rule_zh,
        advanced.advanced_streak_years,
        advanced.is_first_time
    from advanced
    {{ hqd.join_region_in_year('region', 'advanced.region_code', 'advanced.assessment_year') }}
    {{ hqd.join_region_in_year('city', 'region.parent_code', 'advanced.assessment_year') }}
    {{ hqd.join_class_label('class_label', "'county'", 'advanced.class_code') }}
    {{ hqd.join_label('tier_label', 'tier', dbt.cast('advanced.tier', api.Column.translate_type('string'))) }}
    {{ hqd.join_label('rule_label', 'selection_rule', 'advanced.selection_rule') }}

)

select * from final
