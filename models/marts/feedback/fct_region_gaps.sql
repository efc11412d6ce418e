-- 上分空间: per (year, region, assessed indicator) the points lost and what three better values would have
-- earned: the value of the nearest better-ranked region in class (equal values share the better rank, so
-- reaching it is reaching its rank), the class best (rank 1), and the indicator's target. Each is re-scored
-- with the one scoring formula (macros/scoring.sql) as the region's own score at that value, with the rank
-- and the class best / worst bounds the value would have had and every other region's value held fixed.
-- Holding the others fixed is sufficient, never optimistic: when a region improves, no other region's score
-- can rise (rank method: each may drop one place; efficacy with class bounds: the best / worst bound moves
-- against them; target methods: unchanged), so the gains here are points the region would at least have
-- gained against the others, and fct_region_gap_plans may add them up.
{{ config(
    materialized=hqd.incremental_materialization(),
    unique_key='assessment_year',
    rebuilt_on='annual_values',
    pre_hook="{{ hqd.avoid_nested_loops() }}"
) }}
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

-- the reported values of each peer group (year, level, class, indicator); a missing value is never better.
-- Everything below is sorted or grouped per peer group, never paired region by region: the national
-- configuration has about a thousand regions in a class.
peer_values as (

    select
        assessment_year,
        level,
        class_code,
        indicator_code,
        indicator_value
    from regions
    where indicator_value is not null

),

peer_bounds as (

    select
        assessment_year,
        level,
        class_code,
        indicator_code,
        max(indicator_value) as highest_value,
        min(indicator_value) as lowest_value
    from peer_values
    group by assessment_year, level, class_code, indicator_code

),

-- how many regions hold the highest and the lowest value, and the values next to them: the best and worst of
-- the others is the group's own unless the region alone holds it
peer_extremes as (

    select
        peer_bounds.assessment_year,
        peer_bounds.level,
        peer_bounds.class_code,
        peer_bounds.indicator_code,
        peer_bounds.highest_value,
        peer_bounds.lowest_value,
        sum(case when peer_values.indicator_value = peer_bounds.highest_value then 1 else 0 end) as highest_count,
        max(case
            when peer_values.indicator_value < peer_bounds.highest_value then peer_values.indicator_value
        end) as second_highest_value,
        sum(case when peer_values.indicator_value = peer_bounds.lowest_value then 1 else 0 end) as lowest_count,
        min(case
            when peer_values.indicator_value > peer_bounds.lowest_value then peer_values.indicator_value
        end) as second_lowest_value
    from peer_values
    inner join peer_bounds
        on
            peer_values.assessment_year = peer_bounds.assessment_year
            and peer_values.level = peer_bounds.level
            and peer_values.class_code = peer_bounds.class_code
            and peer_values.indicator_code = peer_bounds.indicator_code
    group by
        peer_bounds.assessment_year,
        peer_bounds.level,
        peer_bounds.class_code,
        peer_bounds.indicator_code,
        peer_bounds.highest_value,
        peer_bounds.lowest_value

),

-- each distinct value with its neighbours: the nearest better value is the next distinct one
value_neighbours as (

    select
        assessment_year,
        level,
        class_code,
        indicator_code,
        indicator_value,
        lead(indicator_value) over (
            partition by assessment_year, level, class_code, indicator_code order by indicator_value
        ) as next_higher_value,
        lag(indicator_value) over (
            partition by assessment_year, level, class_code, indicator_code order by indicator_value
        ) as next_lower_value
    from (
        select distinct
            assessment_year,
            level,
            class_code,
            indicator_code,
            indicator_value
        from peer_values
    ) as distinct_values

),

others as (

    select
        regions.assessment_year,
        regions.region_code,
        regions.indicator_code,
        case
            when regions.indicator_value = peer_extremes.highest_value and peer_extremes.highest_count = 1
                then peer_extremes.second_highest_value
            else peer_extremes.highest_value
        end as others_highest_value,
        case
            when regions.indicator_value = peer_extremes.lowest_value and peer_extremes.lowest_count = 1
                then peer_extremes.second_lowest_value
            else peer_extremes.lowest_value
        end as others_lowest_value,
        -- the nearest better value: the worst of those strictly better than the region's own (a missing own
        -- value ranks after every reported one, so then it is the worst reported value)
        case
            when regions.indicator_value is null and regions.direction = 'lower' then peer_extremes.highest_value
            when regions.indicator_value is null then peer_extremes.lowest_value
            when regions.direction = 'lower' then value_neighbours.next_lower_value
            else value_neighbours.next_higher_value
        end as next_rank_value
    from regions
    left join peer_extremes
        on
            regions.assessment_year = peer_extremes.assessment_year
            and regions.level = peer_extremes.level
            and regions.class_code = peer_extremes.class_code
            and regions.indicator_code = peer_extremes.indicator_code
    left join value_neighbours
        on
            regions.assessment_year = value_neighbours.assessment_year
            and regions.level = value_neighbours.level
            and regions.class_code = value_neighbours.class_code
            and regions.indicator_code = value_neighbours.indicator_code
            and regions.indicator_value = value_neighbours.indicator_value

),

with_others as (

    select
        regions.*,
        case
            when regions.direction = 'lower' then others.others_lowest_value else others.others_highest_value
        end as others_best_value,
        case
            when regions.direction = 'lower' then others.others_highest_value else others.others_lowest_value
        end as others_worst_value,
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

-- the rank a candidate value would have: 1 + the other regions with a strictly better value. The reported values
-- and the candidates are sorted together, better first: the regions at or before a candidate, less those equal
-- to it, are the strictly better ones; the region's own value is then taken out when it is one of them.
sorted_values as (

    select
        assessment_year,
        level,
        class_code,
        indicator_code,
        cast(null as {{ api.Column.translate_type('string') }}) as region_code,
        cast(null as {{ api.Column.translate_type('string') }}) as candidate_code,
        case when direction = 'lower' then indicator_value else -indicator_value end as better_first_value,
        1 as is_reported_value,
        cast(0 as integer) as own_is_better
    from regions
    where indicator_value is not null

    union all

    select
        assessment_year,
        level,
        class_code,
        indicator_code,
        region_code,
        candidate_code,
        case when direction = 'lower' then candidate_value else -candidate_value end as better_first_value,
        0 as is_reported_value,
        case
            when direction = 'lower' and indicator_value < candidate_value then 1
            when direction <> 'lower' and indicator_value > candidate_value then 1
            else 0
        end as own_is_better
    from candidates

),

counted_values as (

    select
        *,
        -- the default frame (range up to the current row) takes in the values equal to it
        sum(is_reported_value) over (
            partition by assessment_year, level, class_code, indicator_code order by better_first_value
        ) as reported_at_or_before,
        sum(is_reported_value) over (
            partition by assessment_year, level, class_code, indicator_code, better_first_value
        ) as reported_equal
    from sorted_values

),

candidate_ranks as (

    select
        assessment_year,
        region_code,
        indicator_code,
        candidate_code,
        1 + reported_at_or_before - reported_equal - own_is_better as candidate_rank
    from counted_values
    where is_reported_value = 0

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
