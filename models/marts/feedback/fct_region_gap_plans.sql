-- 上分路径: per region, year and goal not already reached — up one rank in class, into the first tier, onto the
-- advanced list (counties) — the fewest indicator improvements that would have reached it. Each indicator
-- offers one improvement (fct_region_gaps): to the class best (rank 1), or to its target where that gains
-- more, or as much for a less demanding value. Gains add up because each indicator scores on its own and the
-- other regions are held fixed (sufficient, never optimistic: see fct_region_gaps). Taking the largest gains
-- first gives the fewest indicators; equal gains are taken in indicator-code order (which of them is listed
-- does not change the count). The goal is reached when the cumulative gain exceeds the points needed, or
-- equals them and the region already wins a tie in total against the region to beat (more indicators ranked
-- first, then the smaller code: fct_region_assessment's order; improving to the class best only adds first
-- places to the region, never to the other). A goal no set of improvements reaches (or a vetoed region's
-- first tier and advanced list) is listed with all its improvements and is_goal_reachable false, so that it
-- stays visible and the region sees how far even all of them fall short.
{{ config(materialized=hqd.incremental_materialization(), unique_key='assessment_year', rebuilt_on='annual_values') }}
with

gaps as (

    select * from {{ ref('fct_region_gaps') }}
    where {{ hqd.years_to_rebuild() }}

),

assessments as (

    select * from {{ ref('fct_region_assessment') }}
    where {{ hqd.years_to_rebuild() }}

),

advanced as (

    select * from {{ ref('fct_advanced_counties') }}
    where {{ hqd.years_to_rebuild() }}

),

options as (

    select
        assessment_year,
        region_code,
        indicator_code,
        dimension_code,
        direction,
        scoring_method,
        indicator_value,
        'rank_one' as improvement_basis,
        rank_one_value as improved_value,
        rank_one_points_gained as points_gained
    from gaps
    where rank_one_points_gained > 0

    union all

    select
        assessment_year,
        region_code,
        indicator_code,
        dimension_code,
        direction,
        scoring_method,
        indicator_value,
        'target' as improvement_basis,
        target_value as improved_value,
        target_points_gained as points_gained
    from gaps
    where target_points_gained > 0

),

-- one improvement per indicator: the larger gain; on equal gains the less demanding value
ranked_options as (

    select
        *,
        row_number() over (
            partition by assessment_year, region_code, indicator_code
            order by
                points_gained desc,
                case when direction = 'lower' then -improved_value else improved_value end asc
        ) as option_position
    from options

),

improvements as (

    select * from ranked_options
    where option_position = 1

),

last_first_tier as (

    select
        *,
        row_number() over (
            partition by assessment_year, level, class_code order by rank_in_class desc
        ) as position_from_last
    from assessments
    where tier = 1 and not is_vetoed

),

last_advanced as (

    select
        *,
        row_number() over (
            partition by assessment_year, class_code order by position_among_eligible desc
        ) as position_from_last
    from advanced

),

-- the region each goal must pass: the one ranked just above, the last of the first tier, the last advanced county
rivals as (

    select
        region.assessment_year,
        region.region_code,
        'up_one_rank' as goal_code,
        rival.region_code as rival_region_code,
        rival.total_score as rival_total_score,
        rival.indicators_ranked_first as rival_indicators_ranked_first,
        false as is_blocked_by_veto
    from assessments as region
    inner join assessments as rival
        on
            region.assessment_year = rival.assessment_year
            and region.level = rival.level
            and region.class_code = rival.class_code
            and region.rank_in_class = rival.rank_in_class + 1

    union all

    select
        region.assessment_year,
        region.region_code,
        'first_tier' as goal_code,
        rival.region_code as rival_region_code,
        rival.total_score as rival_total_score,
        rival.indicators_ranked_first as rival_indicators_ranked_first,
        region.is_vetoed as is_blocked_by_veto
    from assessments as region
    inner join last_first_tier as rival
        on
            region.assessment_year = rival.assessment_year
            and region.level = rival.level
            and region.class_code = rival.class_code
            and rival.position_from_last = 1
    where region.tier <> 1

    union all

    select
        region.assessment_year,
        region.region_code,
        'advanced_list' as goal_code,
        rival.region_code as rival_region_code,
        rival_assessment.total_score as rival_total_score,
        rival_assessment.indicators_ranked_first as rival_indicators_ranked_first,
        region.is_vetoed as is_blocked_by_veto
    from assessments as region
    inner join last_advanced as rival
        on
            region.assessment_year = rival.assessment_year
            and region.class_code = rival.class_code
            and rival.position_from_last = 1
    inner join assessments as rival_assessment
        on
            rival.assessment_year = rival_assessment.assessment_year
            and rival.region_code = rival_assessment.region_code
    left join advanced as listed
        on
            region.assessment_year = listed.assessment_year
            and region.region_code = listed.region_code
    where region.level = 'county' and listed.region_code is null

),

goals as (

    select
        rivals.*,
        region.level,
        region.class_code,
        region.total_score as region_total_score,
        case when not rivals.is_blocked_by_veto then rivals.rival_total_score - region.total_score end
            as points_needed,
        region.indicators_ranked_first > rivals.rival_indicators_ranked_first
        or (
            region.indicators_ranked_first = rivals.rival_indicators_ranked_first
            and region.region_code < rivals.rival_region_code
        ) as wins_tie_in_total
    from rivals
    inner join assessments as region
        on
            rivals.assessment_year = region.assessment_year
            and rivals.region_code = region.region_code

),

steps as (

    select
        goals.*,
        improvements.indicator_code,
        improvements.dimension_code,
        improvements.scoring_method,
        improvements.indicator_value,
        improvements.improvement_basis,
        improvements.improved_value,
        improvements.points_gained,
        row_number() over (
            partition by goals.assessment_year, goals.region_code, goals.goal_code
            order by improvements.points_gained desc, improvements.indicator_code asc
        ) as step,
        sum(improvements.points_gained) over (
            partition by goals.assessment_year, goals.region_code, goals.goal_code
            order by improvements.points_gained desc, improvements.indicator_code asc
            rows between unbounded preceding and current row
        ) as cumulative_points_gained,
        sum(improvements.points_gained) over (
            partition by goals.assessment_year, goals.region_code, goals.goal_code
        ) as all_points_gained
    from goals
    inner join improvements
        on
            goals.assessment_year = improvements.assessment_year
            and goals.region_code = improvements.region_code

),

flagged as (

    select
        *,
        not is_blocked_by_veto and (
            all_points_gained > points_needed
            or (all_points_gained = points_needed and wins_tie_in_total)
        ) as is_goal_reachable,
        -- the goal was not yet reached before this step
        cumulative_points_gained - points_gained < points_needed
        or (cumulative_points_gained - points_gained = points_needed and not wins_tie_in_total) as is_needed_step
    from steps

),

final as (

    select
        {{ hqd.composite_key(['assessment_year', 'region_code', 'goal_code', 'indicator_code']) }}
            as region_gap_plan_key,
        assessment_year,
        region_code,
        level,
        class_code,
        goal_code,
        cast(step as integer) as step,
        indicator_code,
        dimension_code,
        scoring_method,
        indicator_value,
        improvement_basis,
        cast(improved_value as {{ hqd.type_measure() }}) as improved_value,
        cast(points_gained as {{ hqd.type_measure() }}) as points_gained,
        cast(cumulative_points_gained as {{ hqd.type_measure() }}) as cumulative_points_gained,
        cast(points_needed as {{ hqd.type_measure() }}) as points_needed,
        is_goal_reachable,
        cast(region_total_score as {{ hqd.type_measure() }}) as region_total_score,
        rival_region_code,
        cast(rival_total_score as {{ hqd.type_measure() }}) as rival_total_score
    from flagged
    where not is_goal_reachable or is_needed_step

)

select * from final
