-- 上分方案 for BI: per region, year and goal (进一位, 进第一等次, 进先进县名单) the fewest indicator improvements that
-- would have reached it, step by step, with names and labels in Chinese. A view over the published marts.
with

plans as (

    select * from {{ hqd.published_ref('fct_region_gap_plans') }}

),

final as (

    select
        plans.region_gap_plan_key,
        plans.assessment_year,
        plans.region_code,
        region.region_name,
        level_label.label_zh as level_zh,
        level_label.sort_order as level_sort_order,
        class_label.label_zh as class_name_zh,
        class_label.sort_order as class_sort_order,
        goal_label.label_zh as goal_zh,
        goal_label.sort_order as goal_sort_order,
        plans.step,
        plans.indicator_code,
        indicator.indicator_name_zh,
        indicator.dimension_name_zh,
        indicator.unit,
        basis_label.label_zh as improvement_basis_zh,
        {{ hqd.display_number('plans.indicator_value') }} as indicator_value,
        {{ hqd.display_number('plans.improved_value') }} as improved_value,
        {{ hqd.display_number('plans.points_gained') }} as points_gained,
        {{ hqd.display_number('plans.cumulative_points_gained') }} as cumulative_points_gained,
        {{ hqd.display_number('plans.points_needed') }} as points_needed,
        plans.is_goal_reachable,
        plans.rival_region_code,
        rival.region_name as rival_region_name
    from plans
    {{ hqd.join_region_in_year('region', 'plans.region_code', 'plans.assessment_year') }}
    {{ hqd.join_region_in_year('rival', 'plans.rival_region_code', 'plans.assessment_year') }}
    left join {{ hqd.published_ref('dim_indicator') }} as indicator
        on plans.indicator_code = indicator.indicator_code
    {{ hqd.join_label('level_label', 'level', 'plans.level') }}
    {{ hqd.join_class_label('class_label', 'plans.level', 'plans.class_code') }}
    {{ hqd.join_label('goal_label', 'goal_code', 'plans.goal_code') }}
    {{ hqd.join_label('basis_label', 'improvement_basis', 'plans.improvement_basis') }}

)

select * from final
