-- Every landed row that cannot be used, with its reason and everything needed to find and fix it.
{{ config(materialized=hqd.incremental_materialization(), unique_key='load_seq') }}
with

rejected as (

    select * from {{ ref('int_submissions_validated') }}
    where rejection_reason is not null and {{ hqd.rows_after_watermark() }}

),

reasons as (

    select * from {{ ref('rejection_reasons') }}

),

described as (

    select
        rejected.*,
        reasons.description_en,
        reasons.description_zh
    from rejected
    left join reasons
        on rejected.rejection_reason = reasons.reason_code

),

final as (

    select
        submission_id,
        rejection_reason,
        description_en as rejection_description,
        description_zh as rejection_description_zh,
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
    from described

)

select * from final
