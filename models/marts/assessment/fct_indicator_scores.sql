-- One row per assessed (year, region, indicator): the value, how it was scored and the points it earned,
-- within its peer group (same year, level and class). A region with no usable value scores 0, ranks last and
-- is flagged; nothing is imputed. The efficacy base and span and the rank step come with the year's rules
-- (scoring_parameters through int_indicator_rules_by_year). How a value scores: macros/scoring.sql.
{{ config(materialized=hqd.incremental_materialization(), unique_key='assessment_year', rebuilt_on='annual_values') }}
with

grid as (

    select * from {{ ref('int_region_indicators_assessed') }}
    where {{ hqd.years_to_rebuild() }}

),

annual_values as (

    select * from {{ ref('fct_indicator_values') }}
    where is_current and period_type = 'year' and {{ hqd.years_to_rebuild() }}

),

assessed as (

    select
        grid.assessment_year,
        grid.level,
        grid.class_code,
        grid.region_code,
        grid.indicator_code,
        grid.dimension_code,
        grid.lead_department,
        grid.direction,
        grid.scoring_method,
        grid.weight,
        grid.target_value,
        grid.satisfactory_value,
        grid.not_allowed_value,
        grid.efficacy_base,
        grid.efficacy_span,
        grid.rank_step,
        annual_values.submission_id,
        annual_values.indicator_value,
        annual_values.indicator_value is null as is_value_missing
    from grid
    left join annual_values
        on
            grid.region_code = annual_values.region_code
            and grid.indicator_code = annual_values.indicator_code
            and grid.assessment_year = annual_values.assessment_year

),

peer_stats as (

    select
        *,
        count(*) over peer_group as peer_group_size,
        count(indicator_value) over peer_group as peer_values_count,
        case when direction = 'lower' then min(indicator_value) over peer_group
            else max(indicator_value) over peer_group
        end as peer_best_value,
        case when direction = 'lower' then max(indicator_value) over peer_group
            else min(indicator_value) over peer_group
        end as peer_worst_value,
        -- equal values share the better rank (1, 1, 3); missing values rank after every reported one
        rank() over (
            partition by assessment_year, level, class_code, indicator_code
            order by
                case when indicator_value is null then 1 else 0 end,
                case when direction = 'lower' then indicator_value else -indicator_value end
        ) as rank_in_class
    from assessed
    window peer_group as (partition by assessment_year, level, class_code, indicator_code)

),

bounds as (

    select
        *,
        coalesce(satisfactory_value, peer_best_value) as satisfactory_value_used,
        coalesce(not_allowed_value, peer_worst_value) as not_allowed_value_used,
        {{ hqd.is_target_met('indicator_value') }} as is_target_met
    from peer_stats

),

coefficients as (

    select
        *,
        -- the formula's one home is macros/scoring.sql (the gap marts re-score with it)
        {{ hqd.efficacy_coefficient('indicator_value', 'satisfactory_value_used', 'not_allowed_value_used') }}
            as efficacy_coefficient,
        {{ hqd.completion_ratio('indicator_value') }} as completion_ratio
    from bounds

),

scored as (

    select
        *,
        {{ hqd.score_points(
            'indicator_value', 'rank_in_class', 'satisfactory_value_used', 'not_allowed_value_used'
        ) }} as score_points_exact
    from coefficients

),

final as (

    select
        {{ hqd.composite_key(['assessment_year', 'region_code', 'indicator_code']) }} as indicator_score_key,
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
        case when scoring_method = 'efficacy' then satisfactory_value_used end as satisfactory_value_used,
        case when scoring_method = 'efficacy' then not_allowed_value_used end as not_allowed_value_used,
        cast(efficacy_coefficient as {{ hqd.type_measure() }}) as efficacy_coefficient,
        cast(completion_ratio as {{ hqd.type_measure() }}) as completion_ratio,
        is_target_met,
        cast(rank_in_class as integer) as rank_in_class,
        not is_value_missing and rank_in_class = 1 as is_ranked_first,
        not is_value_missing and rank_in_class <= 2 as is_in_class_top_two,
        cast(score_points_exact as {{ hqd.type_measure() }}) as score_points,
        cast(round(cast(score_points_exact as {{ hqd.type_measure() }}), 2) as {{ hqd.type_measure() }})
            as score_points_display,
        cast(weight - score_points_exact as {{ hqd.type_measure() }}) as points_lost
    from scored

)

select * from final
