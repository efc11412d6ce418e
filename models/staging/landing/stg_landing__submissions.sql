-- One row per landed row, typed: the number parsed out of the value cell, the period split into year and
-- quarter. Nothing is resolved or rejected here; int_submissions_validated does that.
with

source as (

    select * from {{ source('landing', 'submissions') }}

),

-- the period cells on their own: a second reference to `source` would make DuckDB materialise every landed row
source_periods as (

    select period_text from {{ source('landing', 'submissions') }}

),

-- the value cell with the forms bureaus type made plain: dash forms used as a minus sign become '-', an
-- accounting negative (0.57) becomes -0.57
cleaned as (

    select
        *,
        {{ hqd.accounting_negative(hqd.normalise_minus("coalesce(trim(value_text), '')")) }} as value_clean
    from source

),

-- each distinct period text parsed once (a few dozen texts for millions of rows) and joined back below, rather
-- than the replaces and regexes run on every row: spaces out, 2023年1-9月 (year to date) → 2023Q3
period_texts as (

    select distinct period_text from source_periods

),

period_cleaned as (

    select
        period_text,
        {{ hqd.period_clean("period_text") }} as period_clean
    from period_texts

),

period_compacted as (

    select
        period_text,
        {{ hqd.period_compact("period_clean") }} as period_compact
    from period_cleaned

),

-- a blank period cell (null) finds no row here and parses to null, as '' does
periods as (

    select
        period_text,
        cast({{ hqd.regexp_group("period_compact", '^([0-9]{4})(Q?([1-4]))?$', 1) }} as integer) as period_year,
        cast({{ hqd.regexp_group("period_compact", '^([0-9]{4})(Q?([1-4]))?$', 3) }} as integer) as period_quarter
    from period_compacted

),

prepared as (

    select
        *,
        replace(replace(replace(value_clean, ',', ''), ' ', ''), '%', '') as value_digits,
        -- a comma is a thousands separator only where it groups three digits ("11,433"); "8,5" is not guessed
        (
            value_clean not like '%,%'
            or {{ hqd.regexp_full_match(
                "replace(replace(value_clean, ' ', ''), '%', '')", '[+-]?[0-9]{1,3}(,[0-9]{3})+([.][0-9]+)?'
            ) }}
        ) as has_valid_grouping
    from cleaned

),

classified as (

    select
        *,
        -- the cell reads as a decimal number, of any size (NaN, Infinity, 0x10 and 1_000 do not)
        has_valid_grouping
        and {{ hqd.regexp_full_match("value_digits", '[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?') }}
            as is_value_numeric
    from prepared

),

-- the texts that mean "no value" (a blank cell loads as a null marker); distinct, so the join adds no rows
missing_value_markers as (

    select distinct coalesce(marker, '') as marker_text from {{ ref('missing_value_markers') }}

),

flagged as (

    select
        classified.*,
        missing_value_markers.marker_text is not null as is_missing_value,
        periods.period_year,
        periods.period_quarter
    from classified
    left join missing_value_markers
        on classified.value_clean = missing_value_markers.marker_text
    left join periods
        on classified.period_text = periods.period_text

),

renamed as (

    select
        {{ hqd.composite_key(['file_hash', 'sheet_name', 'row_number'], ':', optional_parts=['column_number']) }}
            as submission_id,
        file_hash,
        file_name,
        sheet_name,
        row_number,
        column_number,
        load_seq,
        loaded_at,

        -- a 12-digit statistical division code (320583000000) names the same region as its first six digits
        case
            when length(region_code_text) = 12 and region_code_text like '%000000'
                then substr(region_code_text, 1, 6)
            else nullif(region_code_text, '')
        end as region_code_input,
        nullif(region_name_text, '') as region_name_input,
        nullif(indicator_code_text, '') as indicator_code_input,
        nullif(indicator_name_text, '') as indicator_name_input,
        nullif(period_text, '') as period_input,
        nullif(unit_text, '') as unit_input,
        value_raw,
        value_text,

        is_missing_value,
        {{ dbt.position("'%'", "value_clean") }} > 0 as has_percent_sign,
        is_value_numeric,
        -- null when it is not a number, or a number too large for the measure type (never an error)
        case when is_value_numeric then {{ hqd.safe_to_measure("value_digits") }} end as value_number,

        period_year,
        period_quarter,

        region_code_raw,
        region_name_raw,
        indicator_code_raw,
        indicator_name_raw,
        period_raw,
        unit_raw,
        source_row_json

    from flagged

)

select * from renamed
