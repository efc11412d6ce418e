-- Quarterly monitoring (季度监测) and 红黄蓝 warnings: for each region, assessed indicator and quarter, the
-- year-to-date value against the pro-rata target (序时进度). A flow's annual target is pro-rated by
-- quarter / 4; a stock's or rate's applies as is. Half-year evaluation (半年评估) is the Q2 rows.
-- Runs of warnings follow the region's lineage (int_region_lineage): a recoded region continues its
-- predecessor's run (海门市 320684 → 海门区 320614). A quarter without a target or a value is not evaluated:
-- neither warned nor cleared, and it ends a run, since nothing shows the region was still behind.
{{ config(materialized=hqd.incremental_materialization(), unique_key='assessment_year') }}
{#- an incremental run starts at quarter 1 of a year and carries each run of warnings in from the quarter before,
    matched by lineage, so a run crosses a recode at a year boundary as it does in a full build -#}
{%- set carry_in = is_incremental() %}
{%- set range_start = 4 * hqd.rebuild_from_year() if carry_in else 0 %}
{#- quarter_sequence = 4 * year + quarter, so a run's first year is (sequence - 1) / 4 rounded down -#}
{%- set run_start_year = "cast(floor(" ~ hqd.divide("run_start_sequence - 1", "4") ~ ") as integer)" %}
with

lineage as (

    select * from {{ ref('int_region_lineage') }}

),

{% if carry_in -%}
previous_quarter as (

    select * from {{ this }}
    where assessment_year = {{ range_start // 4 - 1 }} and quarter = 4

),

carried as (

    select
        lineage.lineage_code,
        previous_quarter.indicator_code,
        previous_quarter.assessment_year * 4 + previous_quarter.quarter as quarter_sequence,
        previous_quarter.is_warning,
        previous_quarter.consecutive_warning_quarters,
        previous_quarter.warning_since_period_code
    from previous_quarter
    inner join lineage
        on previous_quarter.region_code = lineage.region_code

),

{% endif -%}
assessed as (

    select * from {{ ref('int_region_indicators_assessed') }}
    where {{ hqd.years_to_rebuild() }}

),

targets as (

    select * from {{ ref('int_monitoring_targets_by_year') }}

),

previous_year as (

    select * from {{ ref('int_previous_period_values') }}
    where quarter is null and {{ hqd.years_to_rebuild() }}

),

thresholds as (

    select * from {{ ref('warning_thresholds') }}

),

quarterly_values as (

    select * from {{ ref('fct_indicator_values') }}
    where is_current and period_type = 'quarter' and {{ hqd.years_to_rebuild() }}

),

quarters as (

    {% for quarter in [1, 2, 3, 4] -%}
        select {{ quarter }} as quarter
        {%- if not loop.last %}
            union all
        {% endif %}
    {%- endfor %}

),

grid as (

    select
        assessed.assessment_year,
        quarters.quarter,
        assessed.region_code,
        lineage.lineage_code,
        assessed.level,
        assessed.class_code,
        assessed.indicator_code,
        assessed.direction,
        assessed.accumulation
    from assessed
    inner join lineage
        on assessed.region_code = lineage.region_code
    cross join quarters

),

targeted as (

    select
        grid.*,
        quarterly_values.indicator_value as ytd_value,
        targets.target_kind,
        targets.target_value,
        previous_year.previous_year_value,
        case
            when targets.target_kind = 'annual_level' then targets.target_value
            when targets.target_kind = 'growth_over_previous_year'
                then previous_year.previous_year_value * (1 + {{ hqd.divide("targets.target_value", "100") }})
        end as annual_target,
        thresholds.red_shortfall_pct,
        thresholds.yellow_shortfall_pct,
        thresholds.blue_shortfall_pct
    from grid
    left join quarterly_values
        on
            grid.region_code = quarterly_values.region_code
            and grid.indicator_code = quarterly_values.indicator_code
            and grid.assessment_year = quarterly_values.assessment_year
            and grid.quarter = quarterly_values.quarter
    left join targets
        on
            grid.assessment_year = targets.assessment_year
            and grid.level = targets.level
            and grid.class_code = targets.class_code
            and grid.indicator_code = targets.indicator_code
    left join previous_year
        on
            grid.assessment_year = previous_year.assessment_year
            and grid.region_code = previous_year.region_code
            and grid.indicator_code = previous_year.indicator_code
    inner join thresholds
        on {{ hqd.in_year_range('grid.assessment_year', 'thresholds') }}

),

pro_rated as (

    select
        *,
        case
            when accumulation = 'flow' then {{ hqd.divide("annual_target * quarter", "4") }}
            else annual_target
        end as pro_rata_target
    from targeted

),

shortfalls as (

    select
        *,
        -- shortfall in % of the pro-rata target, by direction; 0 when on or beyond target. Cast to the
        -- measure type before it meets the thresholds, so exactly 10 % is not "beyond 10 %" by a float's ulp.
        cast(case
            when ytd_value is null or pro_rata_target is null then null
            when direction = 'higher' and ytd_value >= pro_rata_target then 0
            when direction = 'lower' and ytd_value <= pro_rata_target then 0
            when pro_rata_target = 0 then 100
            when direction = 'higher'
                then {{ hqd.divide("(pro_rata_target - ytd_value) * 100", "abs(pro_rata_target)") }}
            else {{ hqd.divide("(ytd_value - pro_rata_target) * 100", "abs(pro_rata_target)") }}
        end as {{ hqd.type_measure() }}) as shortfall_pct
    from pro_rated

),

levelled as (

    select
        *,
        shortfall_pct is not null as is_evaluated,
        case
            when shortfall_pct > red_shortfall_pct then 'red'
            when shortfall_pct > yellow_shortfall_pct then 'yellow'
            when shortfall_pct > blue_shortfall_pct then 'blue'
            else 'none'
        end as warning_level,
        {{ hqd.period_code('assessment_year', 'quarter') }} as period_code,
        assessment_year * 4 + quarter as quarter_sequence
    from shortfalls

),

-- the runs of warnings need one sort order (lineage, indicator, quarter); they are computed on these few
-- columns and joined back by the grid's key, so the sorts never carry the wide rows (make bench, issue 14)
warning_flags as (

    select
        region_code,
        lineage_code,
        indicator_code,
        quarter_sequence,
        warning_level <> 'none' as is_warning
    from levelled

),

stepped as (

    select
        warning_flags.*,
        {% if carry_in -%}
            carried.consecutive_warning_quarters as carried_warning_quarters,
            carried.warning_since_period_code as carried_warning_since,
        {% endif -%}
        coalesce(lag(warning_flags.is_warning) over (
            partition by warning_flags.lineage_code, warning_flags.indicator_code
            order by warning_flags.quarter_sequence
        ){% if carry_in %}, carried.is_warning{% endif %}) as was_warning_last_quarter,
        coalesce(lag(warning_flags.quarter_sequence) over (
            partition by warning_flags.lineage_code, warning_flags.indicator_code
            order by warning_flags.quarter_sequence
        ){% if carry_in %}, carried.quarter_sequence{% endif %}) as previous_quarter_sequence
    from warning_flags
    {% if carry_in -%}
        left join carried
            on
                warning_flags.lineage_code = carried.lineage_code
                and warning_flags.indicator_code = carried.indicator_code
    {% endif %}

),

run_starts as (

    select
        *,
        -- a warned quarter starts a run unless the quarter right before it (the carried-in one included) was warned
        is_warning and not (
            coalesce(was_warning_last_quarter, false) and previous_quarter_sequence = quarter_sequence - 1
        ) as is_run_start
    from stepped

),

runs as (

    select
        *,
        -- the latest start up to a quarter is where its run began (the same partition and order as the lag)
        max(case when is_run_start then quarter_sequence end) over (
            partition by lineage_code, indicator_code order by quarter_sequence
            rows between unbounded preceding and current row
        ) as run_start_sequence
    from run_starts

),

run_lengths as (

    select
        region_code,
        indicator_code,
        quarter_sequence,
        is_warning,
        -- a run is consecutive quarters, so its length is the distance from its first quarter; a run with no
        -- start in the rebuilt years continues the carried-in one from their first quarter
        case
            when not is_warning then 0
            {% if carry_in -%}
                when run_start_sequence is null then carried_warning_quarters + quarter_sequence - {{ range_start }}
            {% endif -%}
            else quarter_sequence - run_start_sequence + 1
        end as consecutive_warning_quarters,
        case
            {% if carry_in -%}
                when is_warning and run_start_sequence is null then carried_warning_since
            {% endif -%}
            when is_warning then {{ hqd.period_code(run_start_year, 'run_start_sequence - 4 * ' ~ run_start_year) }}
        end as warning_since_period_code,
        not is_warning
        and coalesce(was_warning_last_quarter, false)
        and previous_quarter_sequence = quarter_sequence - 1 as follows_a_warning
    from runs

),

final as (

    select
        {{ hqd.composite_key(['levelled.period_code', 'levelled.region_code', 'levelled.indicator_code']) }}
            as monitoring_key,
        levelled.period_code,
        levelled.assessment_year,
        levelled.quarter,
        levelled.quarter = 2 as is_half_year_evaluation,
        levelled.region_code,
        levelled.level,
        levelled.class_code,
        levelled.indicator_code,
        levelled.direction,
        levelled.accumulation,
        cast(levelled.ytd_value as {{ hqd.type_measure() }}) as ytd_value,
        levelled.ytd_value is null as is_value_missing,
        levelled.target_kind,
        cast(levelled.target_value as {{ hqd.type_measure() }}) as target_value,
        cast(levelled.previous_year_value as {{ hqd.type_measure() }}) as previous_year_value,
        cast(levelled.annual_target as {{ hqd.type_measure() }}) as annual_target,
        cast(levelled.pro_rata_target as {{ hqd.type_measure() }}) as pro_rata_target,
        cast(levelled.shortfall_pct as {{ hqd.type_measure() }}) as shortfall_pct,
        levelled.warning_level,
        run_lengths.is_warning,
        cast(run_lengths.consecutive_warning_quarters as integer) as consecutive_warning_quarters,
        run_lengths.warning_since_period_code,
        levelled.is_evaluated and run_lengths.follows_a_warning as is_cleared,
        -- last, where an incremental run's append_new_columns adds it to an existing table
        levelled.is_evaluated
    from levelled
    inner join run_lengths
        on
            levelled.region_code = run_lengths.region_code
            and levelled.indicator_code = run_lengths.indicator_code
            and levelled.quarter_sequence = run_lengths.quarter_sequence

)

select * from final
