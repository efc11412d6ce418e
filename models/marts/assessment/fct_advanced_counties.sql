-- 高质量发展先进县(市、区): per class, the configured number of counties with the best totals, no veto,
-- with each county's run of consecutive years on the list and whether this is its first time.
with

assessments as (

    select * from {{ ref('fct_region_assessment') }}
    where level = 'county'

),

quotas as (

    {{ hqd.rules_source(
        'advanced_county_quotas',
        keys=['class_code'],
        values=['advanced_quota', 'selection_rule'],
        scenario_seed='scenario_advanced_county_quotas'
    ) }}

),

lineage as (

    select * from {{ ref('int_region_lineage') }}

),

first_year as (

    select min(assessment_year) as first_assessment_year from {{ ref('assessment_years') }}

),

candidates as (

    select
        assessments.*,
        quotas.advanced_quota,
        quotas.selection_rule,
        row_number() over (
            partition by assessments.assessment_year, assessments.class_code
            order by assessments.rank_in_class
        ) as position_among_eligible
    from assessments
    inner join quotas
        on
            assessments.class_code = quotas.class_code
            and {{ hqd.in_year_range('assessments.assessment_year', 'quotas') }}
    where not assessments.is_vetoed

),

selected as (

    select
        candidates.*,
        lineage.lineage_code
    from candidates
    inner join lineage
        on candidates.region_code = lineage.region_code
    where candidates.position_among_eligible <= candidates.advanced_quota

),

runs as (

    select
        *,
        -- a run of consecutive years is an island of constant (year - row number)
        assessment_year - row_number() over (partition by lineage_code order by assessment_year) as list_island,
        row_number() over (partition by lineage_code order by assessment_year) as times_listed
    from selected

),

final as (

    select
        {{ hqd.composite_key(['runs.assessment_year', 'runs.region_code']) }} as advanced_county_key,
        runs.assessment_year,
        runs.region_code,
        runs.class_code,
        runs.rank_in_class,
        runs.province_rank,
        runs.total_score,
        runs.tier,
        cast(runs.position_among_eligible as integer) as position_among_eligible,
        cast(runs.advanced_quota as integer) as advanced_quota,
        runs.selection_rule,
        -- a recoded county keeps its run (海门市 → 海门区)
        cast(row_number() over (
            partition by runs.lineage_code, runs.list_island
            order by runs.assessment_year
        ) as integer) as advanced_streak_years,
        -- first time on the list since the data starts; unknown in the first assessment year
        case
            when runs.assessment_year = first_year.first_assessment_year then null
            else runs.times_listed = 1
        end as is_first_time
    from runs
    cross join first_year

)

select * from final
