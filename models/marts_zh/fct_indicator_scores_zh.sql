-- 指标得分 for BI: every indicator's value, rank and points per region and year, with the region's and the
-- indicator's names, Chinese labels with sort keys, and numbers with two decimals. A view over the published marts.
with

scores as (

    select * from {{ hqd.published_ref('fct_indicator_scores') }}

),

final as (

    select
        scores.indicator_score_key,
        scores.assessment_year,
        scores.region_code,
        region.region_name,
        level_label.label_zh as level_zh,
        level_label.sort_order as level_sort_order,
        scores.class_code,
        class_label.label_zh as class_name_zh,
        class_label.sort_order as class_sort_order,
        scores.indicator_code,
        indicator.indicator_name_zh,
        indicator.dimension_name_zh,
        indicator.dimension_sort_order,
        indicator.unit,
        scores.lead_department,
        direction_label.label_zh as direction_zh,
        method_label.label_zh as scoring_method_zh,
        method_label.sort_order as scoring_method_sort_order,
        {{ hqd.display_number('scores.weight') }} as weight,
        {{ hqd.display_number('scores.indicator_value') }} as indicator_value,
        scores.is_value_missing,
        {{ hqd.display_number('scores.target_value') }} as target_value,
        scores.rank_in_class,
        scores.peer_group_size,
        scores.is_ranked_first,
        scores.is_in_class_top_two,
        {{ hqd.display_number('scores.score_points') }} as score_points,
        {{ hqd.display_number('scores.points_lost') }} as points_lost
    from scores
    {{ hqd.join_region_in_year('region', 'scores.region_code', 'scores.assessment_year') }}
    left join {{ hqd.published_ref('dim_indicator') }} as indicator
        on scores.indicator_code = indicator.indicator_code
    {{ hqd.join_label('level_label', 'level', 'scores.level') }}
    {{ hqd.join_class_label('class_label', 'scores.level', 'scores.class_code') }}
    {{ hqd.join_label('direction_label', 'direction', 'scores.direction') }}
    {{ hqd.join_label('method_label', 'scoring_method', 'scores.scoring_method') }}

)

select * from final
