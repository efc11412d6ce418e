-- 上分空间 for BI: per region, year and indicator the points lost and what the next better rank, the class best
-- and the target would have gained, with names and labels in Chinese. A view over the published marts.
with

gaps as (

    select * from {{ hqd.published_ref('fct_region_gaps') }}

),

final as (

    select
        gaps.region_gap_key,
        gaps.assessment_year,
        gaps.region_code,
        region.region_name,
        level_label.label_zh as level_zh,
        level_label.sort_order as level_sort_order,
        class_label.label_zh as class_name_zh,
        class_label.sort_order as class_sort_order,
        gaps.indicator_code,
        indicator.indicator_name_zh,
        indicator.dimension_name_zh,
        indicator.dimension_sort_order,
        indicator.unit,
        method_label.label_zh as scoring_method_zh,
        {{ hqd.display_number('gaps.weight') }} as weight,
        {{ hqd.display_number('gaps.indicator_value') }} as indicator_value,
        gaps.is_value_missing,
        gaps.rank_in_class,
        gaps.peer_group_size,
        {{ hqd.display_number('gaps.points_won') }} as points_won,
        {{ hqd.display_number('gaps.points_lost') }} as points_lost,
        {{ hqd.display_number('gaps.next_rank_value') }} as next_rank_value,
        gaps.next_rank_in_class,
        {{ hqd.display_number('gaps.next_rank_points_gained') }} as next_rank_points_gained,
        {{ hqd.display_number('gaps.rank_one_value') }} as rank_one_value,
        {{ hqd.display_number('gaps.rank_one_points_gained') }} as rank_one_points_gained,
        {{ hqd.display_number('gaps.target_value') }} as target_value,
        {{ hqd.display_number('gaps.target_points_gained') }} as target_points_gained
    from gaps
    {{ hqd.join_region_in_year('region', 'gaps.region_code', 'gaps.assessment_year') }}
    left join {{ hqd.published_ref('dim_indicator') }} as indicator
        on gaps.indicator_code = indicator.indicator_code
    {{ hqd.join_label('level_label', 'level', 'gaps.level') }}
    {{ hqd.join_class_label('class_label', 'gaps.level', 'gaps.class_code') }}
    {{ hqd.join_label('method_label', 'scoring_method', 'gaps.scoring_method') }}

)

select * from final
