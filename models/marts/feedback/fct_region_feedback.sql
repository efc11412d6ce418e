-- 点对点反馈: per region, year and assessed indicator, where the region won and lost points: its rank in
-- class, points won and lost, the class average and best value, and whether the indicator is a strength
-- (ranked in the class's top 2) or a weakness (in the class's bottom 2, or among the region's three
-- biggest losses of points). The region's counts of first places and top-2 places ride along.
-- Equal losses are treated alike (the methodology's one tie rule: equal values share the better rank), so
-- every indicator that loses as many points as the third-biggest loss is a weakness, never one by its code.
{{ config(materialized=hqd.incremental_materialization(), unique_key='assessment_year', rebuilt_on='annual_values') }}
with

scores as (

    select * from {{ ref('fct_indicator_scores') }}
    where {{ hqd.years_to_rebuild() }}

),

ranked as (

    select
        *,
        avg(indicator_value) over (
            partition by assessment_year, level, class_code, indicator_code
        ) as class_average_value,
        rank() over (
            partition by assessment_year, region_code
            order by points_lost desc
        ) as loss_rank,
        sum(case when is_ranked_first then 1 else 0 end) over (
            partition by assessment_year, region_code
        ) as region_indicators_ranked_first,
        sum(case when is_in_class_top_two then 1 else 0 end) over (
            partition by assessment_year, region_code
        ) as region_indicators_in_class_top_two
    from scores

),

flagged as (

    select
        *,
        is_in_class_top_two as is_strength,
        rank_in_class >= peer_group_size - 1 as is_in_class_bottom_two,
        loss_rank <= 3 and points_lost > 0 as is_among_biggest_losses
    from ranked

),

final as (

    select
        indicator_score_key as feedback_key,
        assessment_year,
        region_code,
        level,
        class_code,
        indicator_code,
        dimension_code,
        lead_department,
        direction,
        scoring_method,
        weight,
        indicator_value,
        is_value_missing,
        cast(class_average_value as {{ hqd.type_measure() }}) as class_average_value,
        peer_best_value as class_best_value,
        cast(rank_in_class as integer) as rank_in_class,
        cast(peer_group_size as integer) as peer_group_size,
        score_points as points_won,
        points_lost,
        is_ranked_first,
        is_strength,
        is_in_class_bottom_two or is_among_biggest_losses as is_weakness,
        case
            when is_in_class_bottom_two and is_among_biggest_losses then 'bottom_two_and_biggest_loss'
            when is_in_class_bottom_two then 'bottom_two_in_class'
            when is_among_biggest_losses then 'biggest_loss_of_points'
        end as weakness_reason,
        cast(region_indicators_ranked_first as integer) as region_indicators_ranked_first,
        cast(region_indicators_in_class_top_two as integer) as region_indicators_in_class_top_two
    from flagged

)

select * from final
