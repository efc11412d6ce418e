-- Every landed row that cannot be used, with its reason and everything needed to find and fix it.
{{ config(materialized=hqd.incremental_materialization(), unique_key='load_seq') }}
with

rejected as (

    select * from {{ ref('int_submissions_validated') }}
    where rejection_reason is not null and {{ hqd.rows_after_watermark() }}

),

final as (

    select
        submission_id,
        rejection_reason,
        case rejection_reason
            when 'invalid_period' then 'the period is not a year (2023) or a quarter (2023Q1)'
            when 'period_out_of_range' then 'the year is not an assessment year in the configuration'
            when 'missing_region' then 'neither a region code nor a region name was given'
            when 'unknown_region' then 'no region has this code or name'
            when 'region_not_valid_in_year' then 'the region did not exist in this year (merged, renamed or new)'
            when 'ambiguous_region_name' then 'several regions of this year have this name; give the code'
            when 'missing_indicator' then 'neither an indicator code nor an indicator name was given'
            when 'unknown_indicator' then 'no indicator has this code or name'
            when 'unparseable_value' then 'the value is not a number'
            when 'unconvertible_unit' then 'the unit cannot be converted to the indicator''s unit'
            when 'value_out_of_range' then 'the value is impossible for the indicator''s unit'
            when 'conflicting_duplicate_in_file' then 'the same file gives different values for this key'
        end as rejection_description,
        file_name,
        file_hash,
        sheet_name,
        row_number,
        column_number,
        load_seq,
        loaded_at,
        region_code_raw,
        region_name_raw,
        indicator_code_raw,
        indicator_name_raw,
        period_raw,
        value_raw,
        unit_raw,
        region_code as resolved_region_code,
        indicator_code as resolved_indicator_code,
        period_code,
        source_row_json
    from rejected

)

select * from final
