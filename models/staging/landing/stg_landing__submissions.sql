-- One row per landed row, typed: the number parsed out of the value cell, the period split into year and
-- quarter. Nothing is resolved or rejected here; int_submissions_validated does that.
with

source as (

    select * from {{ source('landing', 'submissions') }}

),

-- the texts that mean "no value" (a blank cell loads as a null marker); distinct, so the join adds no rows
missing_value_markers as (

    select distinct coalesce(marker, '') as marker_text from {{ ref('missing_value_markers') }}

),

flagged as (

    select
        source.*,
        missing_value_markers.marker_text is not null as is_missing_value
    from source
    left join missing_value_markers
        on coalesce(trim(source.value_text), '') = missing_value_markers.marker_text

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
        {{ dbt.position("'%'", "trim(value_text)") }} > 0 as has_percent_sign,
        -- a comma is a thousands separator only where it groups three digits ("11,433"); "8,5" is not guessed
        case
            when
                value_text like '%,%'
                and not {{ hqd.regexp_full_match(
                    "replace(replace(trim(value_text), ' ', ''), '%', '')",
                    '[+-]?[0-9]{1,3}(,[0-9]{3})+([.][0-9]+)?'
                ) }}
                then null
            else {{ hqd.safe_to_measure("replace(replace(replace(trim(value_text), ',', ''), ' ', ''), '%', '')") }}
        end as value_number,

        cast({{ hqd.regexp_group(
            hqd.compact_period("period_text"), '^([0-9]{4})(Q?([1-4]))?$', 1) }} as integer) as period_year,
        cast({{ hqd.regexp_group(
            hqd.compact_period("period_text"), '^([0-9]{4})(Q?([1-4]))?$', 3) }} as integer) as period_quarter,

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
