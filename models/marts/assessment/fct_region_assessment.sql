-- One row per (year, region): the ranked and tiered assessment plus progress against the previous year:
-- rank change in class (进位), years in a row in the first tier, and the progress award (争先进位奖).
-- A region is compared with the previous year's row of its lineage (same code, or the one code it
-- continues); a region formed by a merger, or whose class changed, has no comparable previous rank.
-- depends_on: {{ ref('dimensions') }}
with

ranked as (

    select * from {{ ref('int_region_assessments_ranked') }}

),

lineage as (

    select * from {{ ref('int_region_lineage') }}

),

awards as (

    select * from {{ ref('progress_awards') }}

),

first_year as (

    select min(assessment_year) as first_assessment_year from {{ ref('assessment_years') }}

),

with_lineage as (

    select
        ranked.*,
        lineage.lineage_code,
        lineage.predecessor_count
    from ranked
    inner join lineage
        on ranked.region_code = lineage.region_code

),

compared as (

    select
        current_year.*,
        previous_year.rank_in_class as previous_rank_in_class,
        case
            when current_year.assessment_year = first_year.first_assessment_year then 'first_assessment_year'
            when previous_year.region_code is null and current_year.predecessor_count > 1
                then 'new_region_after_merger'
            when previous_year.region_code is null then 'no_previous_year'
            when previous_year.class_code <> current_year.class_code then 'class_changed'
            when previous_year.region_code = current_year.region_code then 'same_code'
            else 'predecessor_code'
        end as previous_year_basis
    from with_lineage as current_year
    cross join first_year
    left join with_lineage as previous_year
        on current_year.lineage_code = previous_year.lineage_code
            and current_year.assessment_year = previous_year.assessment_year + 1

),

progress as (

    select
        *,
        case
            when previous_year_basis in ('same_code', 'predecessor_code')
                then previous_rank_in_class - rank_in_class
        end as rank_change,
        -- consecutive first-tier years: a run of years is an island of constant (year - row number)
        assessment_year - row_number() over (
            partition by lineage_code, tier = 1
            order by assessment_year
        ) as tier_island
    from compared

),

streaks as (

    select
        *,
        case
            when tier = 1
                then row_number() over (partition by lineage_code, tier = 1, tier_island order by assessment_year)
            else 0
        end as first_tier_streak_years
    from progress

),

award_candidates as (

    select
        streaks.region_assessment_key,
        awards.award_count,
        row_number() over (
            partition by streaks.assessment_year, streaks.level
            order by streaks.rank_change desc, streaks.total_score desc, streaks.region_code asc
        ) as award_position
    from streaks
    inner join awards
        on
            streaks.level = awards.level
            and {{ hqd.in_year_range('streaks.assessment_year', 'awards') }}
    where streaks.rank_change > 0

),

final as (

    select
        streaks.region_assessment_key,
        streaks.assessment_year,
        streaks.region_code,
        streaks.level,
        streaks.class_code,
        streaks.class_size,
        streaks.indicators_assessed,
        streaks.missing_values,
        streaks.indicators_ranked_first,
        streaks.indicators_in_class_top_two,
        streaks.weight_total,
        streaks.indicator_points,
        {% for dimension in hqd.dimension_codes() -%}
            streaks.{{ dimension }}_points,
        {% endfor -%}
        streaks.bonus_points,
        streaks.deduction_points,
        streaks.is_vetoed,
        streaks.total_score,
        streaks.total_score_display,
        streaks.rank_in_class,
        streaks.province_rank,
        streaks.tier,
        streaks.tier_name_zh,
        streaks.previous_year_basis,
        cast(streaks.previous_rank_in_class as integer) as previous_rank_in_class,
        cast(streaks.rank_change as integer) as rank_change,
        cast(streaks.first_tier_streak_years as integer) as first_tier_streak_years,
        coalesce(award_candidates.award_position <= award_candidates.award_count, false) as is_progress_award
    from streaks
    left join award_candidates
        on streaks.region_assessment_key = award_candidates.region_assessment_key

)

select * from final
