-- How much a region's rank, tier and advanced status depend on the weights (issue 15 item 2; COINr's
-- get_sensitivity, the OECD/JRC Handbook's step 8): per assessment year, draw_count draws perturb every weight
-- by a factor U(1 - spread, 1 + spread), renormalised to the class's official weight total, and optionally score
-- configured indicators by an alternative method; each draw is totalled, ranked, tiered and the advanced
-- list picked exactly as the official models do (macros/ranking.sql), and the draws are summarised per region.
-- Set-based: one draws table joined to the indicator scores. Deterministic: each factor is a uniform number
-- from a hash of (seed, draw, year, level, class, indicator) (hqd.hash_uniform), never random().
-- The methods are linear in the weight (macros/scoring.sql), so a region's points under a draw are the drawn
-- weight times its achievement (points per unit weight) under the method the draw uses.
-- Incremental by year like fct_indicator_scores; the pre-hook first removes every year being recomputed, so a
-- year the parameters no longer cover (robustness_parameters narrowed) leaves no stale rows behind.
{{ config(
    materialized=hqd.incremental_materialization(),
    unique_key='assessment_year',
    rebuilt_on='annual_values',
    pre_hook="{% if is_incremental() %}delete from {{ this }} where {{ hqd.years_to_rebuild() }}{% endif %}"
) }}
with

run_parameters as (

    select
        assessment_years.assessment_year,
        configured.draw_count,
        configured.weight_spread,
        configured.method_switch_share,
        configured.random_seed,
        configured.lower_percentile,
        configured.upper_percentile,
        configured.robust_share
    from {{ ref('robustness_parameters') }} as configured
    inner join {{ ref('assessment_years') }} as assessment_years
        on {{ hqd.in_year_range('assessment_years.assessment_year', 'configured') }}
    where {{ hqd.years_to_rebuild('assessment_years.assessment_year') }}

),

digits as (

    select 0 as digit
    union all
    select 1
    union all
    select 2
    union all
    select 3
    union all
    select 4
    union all
    select 5
    union all
    select 6
    union all
    select 7
    union all
    select 8
    union all
    select 9

),

-- draws 1..10,000 on every engine (no generate_series on Spark)
draw_numbers as (

    select 1 + ones.digit + 10 * tens.digit + 100 * hundreds.digit + 1000 * thousands.digit as draw
    from digits as ones
    cross join digits as tens
    cross join digits as hundreds
    cross join digits as thousands

),

scores as (

    select * from {{ ref('fct_indicator_scores') }}
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

method_switches as (

    select * from {{ ref('robustness_method_switches') }}

),

scoring_parameters as (

    select * from {{ ref('scoring_parameters') }}

),

rule_weights as (

    select distinct
        scores.assessment_year,
        scores.level,
        scores.class_code,
        scores.indicator_code,
        scores.weight,
        method_switches.alternative_method
    from scores
    left join method_switches
        on scores.level = method_switches.level
            and scores.indicator_code = method_switches.indicator_code
            and {{ hqd.in_year_range('scores.assessment_year', 'method_switches') }}

),

-- points per unit of weight, under the official method and under the alternative one where one is configured
achievements as (

    select
        scores.assessment_year,
        scores.region_code,
        scores.level,
        scores.class_code,
        scores.indicator_code,
        scores.scoring_method,
        case when scores.weight = 0 then 0 else {{ hqd.divide('scores.score_points', 'scores.weight') }} end
            as achievement,
        {{ hqd.score_points(
            'scores.indicator_value', 'scores.rank_in_class',
            'coalesce(scores.satisfactory_value_used, scores.peer_best_value)',
            'coalesce(scores.not_allowed_value_used, scores.peer_worst_value)',
            direction='scores.direction', scoring_method='rule_weights.alternative_method', weight='1',
            target='scores.target_value', efficacy_base='scoring_parameters.efficacy_base',
            efficacy_span='scoring_parameters.efficacy_span', rank_step='scoring_parameters.rank_step'
        ) }} as alternative_achievement
    from scores
    inner join rule_weights
        on scores.assessment_year = rule_weights.assessment_year
            and scores.level = rule_weights.level
            and scores.class_code = rule_weights.class_code
            and scores.indicator_code = rule_weights.indicator_code
    left join scoring_parameters
        on {{ hqd.in_year_range('scores.assessment_year', 'scoring_parameters') }}

),

draw_factors as (

    select
        rule_weights.assessment_year,
        draw_numbers.draw,
        rule_weights.level,
        rule_weights.class_code,
        rule_weights.indicator_code,
        rule_weights.weight,
        rule_weights.weight * (
            1 + run_parameters.weight_spread * (2 * {{ hqd.hash_uniform([
                'run_parameters.random_seed', "'weight'", 'draw_numbers.draw', 'rule_weights.assessment_year',
                'rule_weights.level', 'rule_weights.class_code', 'rule_weights.indicator_code'
            ]) }} - 1)
        ) as perturbed_weight,
        -- hashed only where a switch is configured and may happen
        case
            when rule_weights.alternative_method is null or run_parameters.method_switch_share = 0 then false
            else {{ hqd.hash_uniform([
                'run_parameters.random_seed', "'method'", 'draw_numbers.draw', 'rule_weights.assessment_year',
                'rule_weights.level', 'rule_weights.class_code', 'rule_weights.indicator_code'
            ]) }} < run_parameters.method_switch_share
        end as is_method_switched
    from rule_weights
    inner join run_parameters
        on rule_weights.assessment_year = run_parameters.assessment_year
    inner join draw_numbers
        on run_parameters.draw_count >= draw_numbers.draw

),

-- renormalised so that every class's drawn weights add up to its official total (100)
draw_weights as (

    select
        *,
        perturbed_weight
        * sum(weight) over class_draw
        / sum(perturbed_weight) over class_draw as draw_weight
    from draw_factors
    window class_draw as (partition by assessment_year, draw, level, class_code)

),

draw_points as (

    select
        draw_weights.assessment_year,
        draw_weights.draw,
        achievements.region_code,
        sum(
            draw_weights.draw_weight
            * case
                when draw_weights.is_method_switched then achievements.alternative_achievement
                else achievements.achievement
            end
        ) as indicator_points
    from draw_weights
    inner join achievements
        on draw_weights.assessment_year = achievements.assessment_year
            and draw_weights.level = achievements.level
            and draw_weights.class_code = achievements.class_code
            and draw_weights.indicator_code = achievements.indicator_code
    group by draw_weights.assessment_year, draw_weights.draw, achievements.region_code

),

-- adjustments as in int_region_totals_computed: bonus − deductions; a veto keeps the rank, loses the tier
draw_totals as (

    select
        draw_points.assessment_year,
        draw_points.draw,
        draw_points.region_code,
        assessments.level,
        assessments.class_code,
        assessments.is_vetoed,
        assessments.indicators_ranked_first,
        draw_points.indicator_points
        + cast(assessments.bonus_points as {{ hqd.type_double() }})
        - cast(assessments.deduction_points as {{ hqd.type_double() }}) as total_score
    from draw_points
    inner join assessments
        on draw_points.assessment_year = assessments.assessment_year
            and draw_points.region_code = assessments.region_code

),

draw_ranked as (

    select
        *,
        row_number() over (
            partition by assessment_year, draw, level, class_code order by {{ hqd.assessment_order() }}
        ) as rank_in_class,
        row_number() over (
            partition by assessment_year, draw, level, class_code order by {{ hqd.assessment_order(vetoed_last=true) }}
        ) as tier_position
    from draw_totals

),

draw_tiered as (

    select
        draw_ranked.*,
        {{ hqd.tier_from_position(
            'draw_ranked.tier_position', 'tier_quotas.first_tier_count', 'tier_quotas.second_tier_count'
        ) }} as tier
    from draw_ranked
    inner join {{ ref('tier_quotas') }} as tier_quotas
        on draw_ranked.level = tier_quotas.level
            and draw_ranked.class_code = tier_quotas.class_code
            and {{ hqd.in_year_range('draw_ranked.assessment_year', 'tier_quotas') }}

),

-- the advanced list as fct_advanced_counties picks it: per county class, the best ranks without a veto
draw_eligible as (

    select
        draw_tiered.assessment_year,
        draw_tiered.draw,
        draw_tiered.region_code,
        row_number() over (
            partition by draw_tiered.assessment_year, draw_tiered.draw, draw_tiered.class_code
            order by draw_tiered.rank_in_class
        ) as position_among_eligible,
        quotas.advanced_quota
    from draw_tiered
    inner join {{ ref('advanced_county_quotas') }} as quotas
        on draw_tiered.class_code = quotas.class_code
            and {{ hqd.in_year_range('draw_tiered.assessment_year', 'quotas') }}
    where draw_tiered.level = 'county' and not draw_tiered.is_vetoed

),

draw_outcomes as (

    select
        draw_tiered.assessment_year,
        draw_tiered.draw,
        draw_tiered.region_code,
        draw_tiered.level,
        draw_tiered.rank_in_class,
        draw_tiered.tier,
        case
            when draw_tiered.level <> 'county' then null
            else coalesce(draw_eligible.position_among_eligible <= draw_eligible.advanced_quota, false)
        end as is_advanced,
        -- the draws of a region in order of rank: the k-th is the rank at percentile ceil(p·N / 100)
        row_number() over (
            partition by draw_tiered.assessment_year, draw_tiered.region_code
            order by draw_tiered.rank_in_class, draw_tiered.draw
        ) as rank_order
    from draw_tiered
    left join draw_eligible
        on draw_tiered.assessment_year = draw_eligible.assessment_year
            and draw_tiered.draw = draw_eligible.draw
            and draw_tiered.region_code = draw_eligible.region_code

),

percentile_positions as (

    select
        assessment_year,
        draw_count,
        lower_percentile,
        upper_percentile,
        robust_share,
        weight_spread,
        method_switch_share,
        cast(ceil({{ hqd.divide('lower_percentile * draw_count', '100') }}) as integer) as lower_position,
        cast(ceil({{ hqd.divide('50 * draw_count', '100') }}) as integer) as median_position,
        cast(ceil({{ hqd.divide('upper_percentile * draw_count', '100') }}) as integer) as upper_position
    from run_parameters

),

summarised as (

    select
        draw_outcomes.assessment_year,
        draw_outcomes.region_code,
        count(*) as draws,
        min(draw_outcomes.rank_in_class) as best_rank_in_draws,
        max(draw_outcomes.rank_in_class) as worst_rank_in_draws,
        max(
            case
                when draw_outcomes.rank_order = percentile_positions.lower_position then draw_outcomes.rank_in_class
            end
        ) as rank_band_low,
        max(
            case
                when draw_outcomes.rank_order = percentile_positions.median_position then draw_outcomes.rank_in_class
            end
        ) as rank_median,
        max(
            case
                when draw_outcomes.rank_order = percentile_positions.upper_position then draw_outcomes.rank_in_class
            end
        ) as rank_band_high,
        sum(case when draw_outcomes.tier = 1 then 1 else 0 end) as tier_1_draws,
        sum(case when draw_outcomes.tier = 2 then 1 else 0 end) as tier_2_draws,
        sum(case when draw_outcomes.tier = 3 then 1 else 0 end) as tier_3_draws,
        sum(case when draw_outcomes.is_advanced then 1 else 0 end) as advanced_draws
    from draw_outcomes
    inner join percentile_positions
        on draw_outcomes.assessment_year = percentile_positions.assessment_year
    group by draw_outcomes.assessment_year, draw_outcomes.region_code

),

-- the draws that kept the official tier and the official advanced status
against_official as (

    select
        summarised.*,
        assessments.level,
        assessments.class_code,
        assessments.class_size,
        assessments.rank_in_class as official_rank_in_class,
        assessments.tier as official_tier,
        advanced.region_code is not null as is_listed,
        case
            when assessments.tier = 1 then summarised.tier_1_draws
            when assessments.tier = 2 then summarised.tier_2_draws
            else summarised.tier_3_draws
        end as official_tier_draws,
        case
            when advanced.region_code is not null then summarised.advanced_draws
            else summarised.draws - summarised.advanced_draws
        end as official_status_draws
    from summarised
    inner join assessments
        on
            summarised.assessment_year = assessments.assessment_year
            and summarised.region_code = assessments.region_code
    left join advanced
        on
            summarised.assessment_year = advanced.assessment_year
            and summarised.region_code = advanced.region_code

),

final as (

    select
        {{ hqd.composite_key(['official.assessment_year', 'official.region_code']) }} as rank_robustness_key,
        official.assessment_year,
        official.region_code,
        official.level,
        official.class_code,
        official.class_size,
        cast(official.draws as integer) as draws,
        cast(percentile_positions.weight_spread as {{ hqd.type_measure() }}) as weight_spread,
        cast(percentile_positions.method_switch_share as {{ hqd.type_measure() }}) as method_switch_share,
        official.official_rank_in_class,
        official.official_tier,
        case when official.level = 'county' then official.is_listed end as is_official_advanced,
        cast(percentile_positions.lower_percentile as integer) as band_lower_percentile,
        cast(percentile_positions.upper_percentile as integer) as band_upper_percentile,
        cast(official.rank_band_low as integer) as rank_band_low,
        cast(official.rank_median as integer) as rank_median,
        cast(official.rank_band_high as integer) as rank_band_high,
        cast(official.rank_band_high - official.rank_band_low as integer) as rank_band_width,
        cast(official.best_rank_in_draws as integer) as best_rank_in_draws,
        cast(official.worst_rank_in_draws as integer) as worst_rank_in_draws,
        cast({{ hqd.divide('official.tier_1_draws', 'official.draws') }} as {{ hqd.type_measure() }})
            as tier_1_probability,
        cast({{ hqd.divide('official.tier_2_draws', 'official.draws') }} as {{ hqd.type_measure() }})
            as tier_2_probability,
        cast({{ hqd.divide('official.tier_3_draws', 'official.draws') }} as {{ hqd.type_measure() }})
            as tier_3_probability,
        cast({{ hqd.divide('official.official_tier_draws', 'official.draws') }} as {{ hqd.type_measure() }})
            as official_tier_probability,
        case
            when official.level = 'county'
                then cast({{ hqd.divide('official.advanced_draws', 'official.draws') }} as {{ hqd.type_measure() }})
        end as advanced_probability,
        -- counts against the share, both exact: 950 of 1,000 draws meet 0.95
        official.official_tier_draws >= percentile_positions.robust_share * official.draws as is_tier_robust,
        case
            when official.level = 'county'
                then official.official_status_draws >= percentile_positions.robust_share * official.draws
        end as is_advanced_status_robust
    from against_official as official
    inner join percentile_positions
        on official.assessment_year = percentile_positions.assessment_year

)

select * from final
