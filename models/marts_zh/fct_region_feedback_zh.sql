-- 点对点反馈 for BI: per region, year and indicator the rank in class, points won and lost against the class
-- average and best, strengths and weaknesses with the reason in Chinese. A view over the published marts.
with

feedback as (

    select * from {{ hqd.published_ref('fct_region_feedback') }}

),

final as (

    select
        feedback.feedback_key,
        feedback.assessment_year,
        feedback.region_code,
        region.region_name,
        level_label.label_zh as level_zh,
        level_label.sort_order as level_sort_order,
        class_label.label_zh as class_name_zh,
        class_label.sort_order as class_sort_order,
        feedback.indicator_code,
        indicator.indicator_name_zh,
        indicator.dimension_name_zh,
        indicator.dimension_sort_order,
        indicator.unit,
        feedback.lead_department,
        {{ hqd.display_number('feedback.weight') }} as weight,
        {{ hqd.display_number('feedback.indicator_value') }} as indicator_value,
        feedback.is_value_missing,
        {{ hqd.display_number('feedback.class_average_value') }} as class_average_value,
        {{ hqd.display_number('feedback.class_best_value') }} as class_best_value,
        feedback.rank_in_class,
        feedback.peer_group_size,
        {{ hqd.display_number('feedback.points_won') }} as points_won,
        {{ hqd.display_number('feedback.points_lost') }} as points_lost,
        feedback.is_ranked_first,
        feedback.is_strength,
        feedback.is_weakness,
        reason_label.label_zh as weakness_reason_zh,
        reason_label.sort_order as weakness_reason_sort_order
    from feedback
    {{ hqd.join_region_in_year('region', 'feedback.region_code', 'feedback.assessment_year') }}
    left join {{ hqd.published_ref('dim_indicator') }} as indicator
        on feedback.indicator_code = indicator.indicator_code
    {{ hqd.join_label('level_label', 'level', 'feedback.level') }}
    {{ hqd.join_class_label('class_label', 'feedback.level', 'feedback.class_code') }}
    {{ hqd.join_label('reason_label', 'weakness_reason', 'feedback.weakness_reason') }}

)

select * from final
