-- 综合考核结果 for BI: each region's year with its name that year, class, tier and rank, Chinese labels with
-- their sort keys, and numbers with two decimals. A view over the published marts (see macros/labels.sql).
with

assessment as (

    select * from {{ hqd.published_ref('fct_region_assessment') }}

),

final as (

    select
        assessment.region_assessment_key,
        assessment.assessment_year,
        assessment.region_code,
        region.region_name,
        coalesce(city.region_name, region.region_name) as city_name,
        assessment.level,
        level_label.label_zh as level_zh,
        level_label.sort_order as level_sort_order,
        assessment.class_code,
        class_label.label_zh as class_name_zh,
        class_label.sort_order as class_sort_order,
        {{ hqd.display_number('assessment.total_score') }} as total_score,
        {{ hqd.display_number('assessment.indicator_points') }} as indicator_points,
        {% for dimension in hqd.dimension_codes() -%}
            {{ hqd.display_number('assessment.' ~ dimension ~ '_points') }} as {{ dimension }}_points,
        {% endfor -%}
        {{ hqd.display_number('assessment.bonus_points') }} as bonus_points,
        {{ hqd.display_number('assessment.deduction_points') }} as deduction_points,
        assessment.rank_in_class,
        assessment.class_size,
        assessment.province_rank,
        assessment.tier,
        tier_label.label_zh as tier_name_zh,
        tier_label.sort_order as tier_sort_order,
        assessment.is_vetoed,
        assessment.indicators_ranked_first,
        assessment.indicators_in_class_top_two,
        assessment.previous_rank_in_class,
        assessment.rank_change,
        basis_label.label_zh as previous_year_basis_zh,
        assessment.first_tier_streak_years,
        assessment.is_progress_award
    from assessment
    {{ hqd.join_region_in_year('region', 'assessment.region_code', 'assessment.assessment_year') }}
    {{ hqd.join_region_in_year('city', 'region.parent_code', 'assessment.assessment_year') }}
    {{ hqd.join_label('level_label', 'level', 'assessment.level') }}
    {{ hqd.join_class_label('class_label', 'assessment.level', 'assessment.class_code') }}
    {{ hqd.join_label('tier_label', 'tier', dbt.cast('assessment.tier', api.Column.translate_type('string'))) }}
    {{ hqd.join_label('basis_label', 'previous_year_basis', 'assessment.previous_year_basis') }}

)

select * from final
