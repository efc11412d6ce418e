-- 上分空间: per (year, region, assessed indicator) the points lost and what three better values would have
-- earned: the value of the nearest better-ranked region in class (equal values share the better rank, so
-- reaching it is reaching its rank), the class best (rank 1), and the indicator's target. Each is re-scored
-- with the one scoring formula (macros/scoring.sql) as the region's own score at that value, with the rank
-- and the class best / worst bounds the value would have had and every other region's value held fixed.
-- Holding the others fixed is sufficient, never optimistic: when a region improves, no other region's score
-- can rise (rank method: each may drop one place; efficacy with class bounds: the best / worst bound moves
-- against them; target methods: unchanged), so the gains here are points the region would at least have
-- gained against the others, and fct_region_gap_plans may add them up.
{{ config(materialized=hqd.incremental_materialization(), unique_key='assessment_year') }}
with

scores as (

    select * from {{ ref('fct_indicator_scores') }}
    where {{ hqd.years_to_rebuild() }}

),

grid as (

    select * from {{ ref('int_region_indicators_assessed') }}
    where {{ hqd.years_to_rebuild() }}

),

regions as (

    select
        scores.assessment_year,
        scores.region_code,
        scores.level,
        scores.class_code,
        scores.indicator_code,
        scores.dimension_code,
        scores.direction,
        scores.scoring_method,
        scores.weight,
        scores.target_value,
        scores.indicator_value,
        scores.is_value_missing,
        scores.is_target_met,
        scores.rank_in_class,
        scores.peer_group_size,
        scores.peer_best_value,
        scores.score_points,
        scores.points_lost,
        grid.satisfactory_value,
        grid.not_allowed_value,
        grid.efficacy_base,
        grid.efficacy_span,
        grid.rank_step
    from scores
    inner join grid
        on
            scores.assessment_year = grid.assessment_year
            and scores.region_code = grid.region_code
            and scores.indicator_code = grid.indicator_code

),

-- each region beside every other region of its peer group (a class holds at most a few dozen regions)
pairs as (

    select
        region.assessment_year,
        region.region_code,
        region.indicator_code,
        region.direction,
        other.indicator_value as other_value,
        -- a missing own value ranks after every reported one
        case
            when region.indicator_value is null then other.indicator_value is not null
            when region.direction = 'lower' then other.indicator_value < region.indicator_value
            else other.indicator_value > region.indicator_value
        end as is_other_better
    from regions as region
    left join regions as other
        on
            region.assessment_year = other.assessment_year
            and region.level = other.level
            and region.class_code = other.class_code
            and region.indicator_code = other.indicator_code
            and region.region_code <> other.region_code

),

others as (

    select
        assessment_year,
        region_code,
        indicator_code,
        case when direction = 'lower' then min(other_value) else max(other_value) end as others_best_value,
        case when direction = 'lower' then max(other_value) else min(other_value) end as others_worst_value,
        -- the nearest better value: the worst of those strictly better than the region's own
        case
            when direction = 'lower' then max(case when is_other_better then other_value end)
            else min(case when is_other_better then other_value end)
        end as next_rank_value
    from pairs
    group by assessment_year, region_code, indicator_code, direction

),

with_others as (

    select
        regions.*,
        others.others_best_value,
        others.others_worst_value,
        others.next_rank_value
    from regions
    inner join others
        on
            regions.assessment_year = others.assessment_year
            and regions.region_code = others.region_code
            and regions.indicator_code = others.indicator_code

),

-- the values to re-score: one row per (region, indicator, candidate)
candidates as (

    select
        *,
        'next_rank' as candidate_code,
        next_rank_value as candidate_value
    from with_others
    where next_rank_value is not null

    union all

    select
        *,
        'rank_one' as candidate_code,
        peer_best_value as candidate_value
    from with_others
    where peer_best_value is not null

    union all

    select
        *,
        'target' as candidate_code,
        target_value as candidate_value
    from with_others
    where target_value is not null

),

-- the rank a candidate value would have: 1 + the other regions with a strictly better value
candidate_ranks as (

    select
        candidate.assessment_year,
        candidate.region_code,
        candidate.indicator_code,
        candidate.candidate_code,
        1 + sum(case
            when candidate.direction = 'lower' and other.indicator_value < candidate.candidate_value then 1
            when candidate.direction <> 'lower' and other.indicator_value > candidate.candidate_value then 1
            else 0
        end) as candidate_rank
    from candidates as candidate
    inner join regions as other
        on
            candidate.assessment_year = other.assessment_year
            and candidate.level = other.level
            and candidate.class_code = other.class_code
            and candidate.indicator_code = other.indicator_code
            and candidate.region_code <> other.region_code
    group by candidate.assessment_year, candidate.region_code, candidate.indicator_code, candidate.candidate_code

),

candidate_bounds as (

    select
        candidates.*,
        coalesce(candidate_ranks.candidate_rank, 1) as candidate_rank,
        -- the class best / worst once the region holds the candidate value (the rule's fixed bounds win)
        coalesce(candidates.satisfactory_value, case
            when candidates.others_best_value is null then candidates.candidate_value
            when candidates.direction = 'lower' then least(candidates.candidate_value, candidates.others_best_value)
            else greatest(candidates.candidate_value, candidates.others_best_value)
        end) as candidate_satisfactory_value,
        coalesce(candidates.not_allowed_value, case
            when candidates.others_worst_value is null then candidates.candidate_value
            when candidates.direction = 'lower'
                then greatest(candidates.candidate_value, candidates.others_worst_value)
            else least(candidates.candidate_value, candidates.others_worst_value)
        end) as candidate_not_allowed_value
    from candidates
    left join candidate_ranks
        on
            candidates.assessment_year = candidate_ranks.assessment_year
            and candidates.region_code = candidate_ranks.region_code
            and candidates.indicator_code = candidate_ranks.indicator_code
            and candidates.candidate_code = candidate_ranks.candidate_code

),

rescored as (

    select
        assessment_year,
        region_code,
        indicator_code,
        candidate_code,
        candidate_value,
        candidate_rank,
        -- a target the region already meets is no improvement
        case
            when candidate_code = 'target' and is_target_met then 0
            else cast({{ hqd.score_points(
                'candidate_value', 'candidate_rank', 'candidate_satisfactory_value', 'candidate_not_allowed_value'
            ) }} as {{ hqd.type_measure() }}) - score_points
        end as points_gained
    from candidate_bounds

),

pivoted as (

    select
        assessment_year,
        region_code,
        indicator_code,
        max(case when candidate_code = 'next_rank' then candidate_rank end) as next_rank_in_class,
        max(case when candidate_code = 'next_rank' then points_gained end) as next_rank_points_gained,
        max(case when candidate_code = 'rank_one' then points_gained end) as rank_one_points_gained,
        max(case when candidate_code = 'target' then points_gained end) as target_points_gained
    from rescored
    group by assessment_year, region_code, indicator_code

),

final as (

    select
        {{ hqd.composite_key([
            'with_others.assessment_year', 'with_others.region_code', 'with_others.indicator_code'
        ]) }} as region_gap_key,
        with_others.assessment_year,
        with_others.region_code,
        with_others.level,
        with_others.class_code,
        with_others.indicator_code,
        with_others.dimension_code,
        with_others.direction,
        with_others.scoring_method,
        with_others.weight,
        with_others.indicator_value,
        with_others.is_value_missing,
        with_others.rank_in_class,
        with_others.peer_group_size,
        with_others.score_points as points_won,
        with_others.points_lost,
        cast(with_others.next_rank_value as {{ hqd.type_measure() }}) as next_rank_value,
        cast(pivoted.next_rank_in_class as integer) as next_rank_in_class,
        cast(pivoted.next_rank_points_gained as {{ hqd.type_measure() }}) as next_rank_points_gained,
        cast(with_others.peer_best_value as {{ hqd.type_measure() }}) as rank_one_value,
        cast(pivoted.rank_one_points_gained as {{ hqd.type_measure() }}) as rank_one_points_gained,
        with_others.target_value,
        cast(pivoted.target_points_gained as {{ hqd.type_measure() }}) as target_points_gained
    from with_others
    left join pivoted
        on
            with_others.assessment_year = pivoted.assessment_year
            and with_others.region_code = pivoted.region_code
            and with_others.indicator_code = pivoted.indicator_code

)

select * from final
