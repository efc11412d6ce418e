-- One row per assessed (year, region, indicator): the value, how it was scored and the points it earned.
{{ config(materialized=hqd.incremental_materialization(), unique_key='assessment_year') }}
with

scores as (

    select * from {{ ref('int_indicator_scores_computed') }}
    where {{ hqd.years_to_rebuild() }}

),

final as (

    select
        indicator_score_key,
        assessment_year,
        level,
        class_code,
        region_code,
        indicator_code,
        dimension_code,
        lead_department,
        direction,
        scoring_method,
        weight,
        target_value,
        submission_id,
        indicator_value,
        is_value_missing,
        cast(peer_group_size as integer) as peer_group_size,
        cast(peer_values_count as integer) as peer_values_count,
        peer_best_value,
        peer_worst_value,
        satisfactory_value_used,
        not_allowed_value_used,
        efficacy_coefficient,
        completion_ratio,
        is_target_met,
        cast(rank_in_class as integer) as rank_in_class,
        is_ranked_first,
        is_in_class_top_two,
        score_points,
        cast(round(score_points, 2) as {{ hqd.type_measure() }}) as score_points_display,
        points_lost
    from scores

)

select * from final
