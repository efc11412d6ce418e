-- Every staged row resolved against the year's configuration, with the first reason it cannot be used
-- (null when it can). Accepted and rejected rows both come from here, so none can be lost between them.
{{ config(materialized=hqd.incremental_materialization(), unique_key='load_seq') }}
{#- No indicator value reaches a thousand trillion (China's GDP is 1.3e14 元): a number beyond it in the submitted
    or the indicator's unit is value_out_of_range, and the unit conversion cannot overflow. -#}
{%- set max_abs_value = '1000000000000000' %}
with

submissions as (

    select * from {{ ref('stg_landing__submissions') }}
    where {{ hqd.rows_after_watermark() }}

),

-- the rows that give a region by name alone, read on their own: a second reference to `submissions` would make
-- DuckDB (and PostgreSQL) materialise every staged row with all its columns
named_submissions as (

    select
        region_name_input,
        period_year
    from {{ ref('stg_landing__submissions') }}
    where {{ hqd.rows_after_watermark() }} and region_code_input is null and region_name_input is not null

),

regions as (

    select * from {{ ref('regions') }}

),

indicators as (

    select
        *,
        -- submitted names went through NFKC at ingest (Ⅲ → III), so compare like with like
        replace(replace(replace(indicator_name_zh, 'Ⅲ', 'III'), 'Ⅱ', 'II'), 'Ⅰ', 'I') as indicator_name_key
    from {{ ref('indicators') }}

),

assessment_years as (

    select assessment_year from {{ ref('assessment_years') }}

),

unit_conversions as (

    select * from {{ ref('unit_conversions') }}

),

-- a region given by name alone: which regions of that year carry the name (full or without its suffix), once per
-- distinct name and year (a few hundred pairs, not every row); a null year is a pair of its own (never in range)
region_names as (

    select distinct
        region_name_input,
        period_year
    from named_submissions

),

region_name_matches as (

    select
        region_names.region_name_input,
        region_names.period_year,
        count(distinct case
            when {{ hqd.in_year_range('region_names.period_year', 'regions', 'valid_from_year', 'valid_to_year') }}
                then regions.region_code
        end) as matches_in_year,
        min(case
            when {{ hqd.in_year_range('region_names.period_year', 'regions', 'valid_from_year', 'valid_to_year') }}
                then regions.region_code
        end) as region_code,
        count(distinct regions.region_code) as matches_any_year
    from region_names
    inner join regions
        on region_names.region_name_input in (regions.region_name, regions.short_name)
    group by region_names.region_name_input, region_names.period_year

),

resolved as (

    select
        submissions.*,
        {{ hqd.period_code('submissions.period_year', 'submissions.period_quarter') }} as period_code,
        case when submissions.period_quarter is null then 'year' else 'quarter' end as period_type,
        assessment_years.assessment_year is not null as is_period_in_range,
        coded_region.region_code as coded_region_code,
        coded_region.valid_from_year as coded_region_valid_from_year,
        coded_region.valid_to_year as coded_region_valid_to_year,
        region_name_matches.matches_in_year,
        region_name_matches.matches_any_year,
        case
            when submissions.region_code_input is not null
                and {{ hqd.in_year_range(
                    'submissions.period_year', 'coded_region', 'valid_from_year', 'valid_to_year'
                ) }}
                then coded_region.region_code
            when submissions.region_code_input is null and region_name_matches.matches_in_year = 1
                then region_name_matches.region_code
        end as region_code,
        coalesce(coded_indicator.indicator_code, named_indicator.indicator_code) as indicator_code,
        coalesce(coded_indicator.unit, named_indicator.unit) as indicator_unit,
        coalesce(coded_indicator.value_min, named_indicator.value_min) as value_min,
        coalesce(coded_indicator.value_max, named_indicator.value_max) as value_max,
        -- a bare number is in the indicator's own unit (the template prescribes it); a % sign means percent
        coalesce(
            case when submissions.has_percent_sign then '%' end,
            submissions.unit_input,
            coalesce(coded_indicator.unit, named_indicator.unit)
        ) as submitted_unit
    from submissions
    left join assessment_years
        on submissions.period_year = assessment_years.assessment_year
    left join regions as coded_region
        on submissions.region_code_input = coded_region.region_code
    left join region_name_matches
        on
            submissions.region_code_input is null
            and submissions.region_name_input = region_name_matches.region_name_input
            and coalesce(submissions.period_year, -1) = coalesce(region_name_matches.period_year, -1)
    left join indicators as coded_indicator
        on upper(submissions.indicator_code_input) = coded_indicator.indicator_code
    -- an equality (a hash join on every engine), not "code is null and name = key" (a nested loop on DuckDB)
    left join indicators as named_indicator
        on
            named_indicator.indicator_name_key
            = case when submissions.indicator_code_input is null then submissions.indicator_name_input end

),

converted as (

    select
        resolved.*,
        unit_conversions.factor as unit_factor,
        -- a value beyond any indicator's (an ID number typed into the value cell) is left null, never multiplied:
        -- the product of two wide decimals overflows on every engine. A factor of 1 (most rows) takes the value
        -- as it is: the same number without a wide multiplication and rounding back per row.
        cast(case
            when
                not (
                    abs(resolved.value_number) < {{ max_abs_value }}
                    and abs(
                        cast(resolved.value_number as {{ hqd.type_double() }})
                        * cast(unit_conversions.factor as {{ hqd.type_double() }})
                    ) < {{ max_abs_value }}
                )
                then null
            when unit_conversions.factor = 1 then resolved.value_number
            else cast(resolved.value_number * unit_conversions.factor as {{ hqd.type_measure() }})
        end as {{ hqd.type_measure() }}) as indicator_value
    from resolved
    left join unit_conversions
        on resolved.submitted_unit = unit_conversions.from_unit
            and resolved.indicator_unit = unit_conversions.to_unit

),

judged as (

    select
        *,
        case
            when period_year is null then 'invalid_period'
            when not is_period_in_range then 'period_out_of_range'
            when region_code_input is null and region_name_input is null then 'missing_region'
            when region_code_input is not null and coded_region_code is null then 'unknown_region'
            when region_code_input is not null and region_code is null then 'region_not_valid_in_year'
            when region_code_input is null and matches_in_year > 1 then 'ambiguous_region_name'
            when region_code_input is null and coalesce(matches_any_year, 0) > 0 and region_code is null
                then 'region_not_valid_in_year'
            when region_code is null then 'unknown_region'
            when indicator_code_input is null and indicator_name_input is null then 'missing_indicator'
            when indicator_code is null then 'unknown_indicator'
            when not is_missing_value and value_number is null and not coalesce(is_value_numeric, false)
                then 'unparseable_value'
            when not is_missing_value and unit_factor is null then 'unconvertible_unit'
            -- a number, but beyond the measure type or the bound above: too large for any indicator
            when not is_missing_value and indicator_value is null then 'value_out_of_range'
            when indicator_value < value_min or indicator_value > value_max then 'value_out_of_range'
        end as row_rejection_reason
    from converted

),

-- two rows of one file for the same key with different values: neither can be trusted. One group per key of
-- the accepted rows (only keys that repeat can conflict), then joined back by key: no window over every row
-- and no join of every row to itself. Values differ when two non-null ones do or a null meets a non-null.
conflicting_keys as (

    select
        file_hash,
        region_code,
        indicator_code,
        period_code
    from judged
    where row_rejection_reason is null
    group by file_hash, region_code, indicator_code, period_code
    having
        count(*) > 1
        and (
            min(indicator_value) <> max(indicator_value)
            or (count(indicator_value) > 0 and count(indicator_value) < count(*))
        )

),

final as (

    select
        judged.*,
        coalesce(
            judged.row_rejection_reason,
            case when conflicting_keys.file_hash is not null then 'conflicting_duplicate_in_file' end
        ) as rejection_reason
    from judged
    left join conflicting_keys
        on
            judged.row_rejection_reason is null
            and judged.file_hash = conflicting_keys.file_hash
            and judged.region_code = conflicting_keys.region_code
            and judged.indicator_code = conflicting_keys.indicator_code
            and judged.period_code = conflicting_keys.period_code

)

select * from final
