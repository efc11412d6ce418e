-- Every accepted submission row, converted to its indicator's unit. Resubmissions stay queryable: the
-- latest load of a (region, indicator, period) is current and feeds the scores, earlier ones are superseded;
-- within one file the later row wins (identical duplicates only: conflicting ones were rejected).
{{ config(materialized=hqd.incremental_materialization(), unique_key='assessment_year') }}
with

validated as (

    select * from {{ ref('int_submissions_validated') }}
    where {{ hqd.years_to_rebuild('period_year') }}

),

accepted as (

    select
        *,
        row_number() over (
            partition by region_code, indicator_code, period_code
            order by load_seq desc, row_number desc
        ) = 1 as is_current
    from validated
    where rejection_reason is null

),

final as (

    select
        submission_id,
        region_code,
        indicator_code,
        period_code,
        period_type,
        period_year as assessment_year,
        period_quarter as quarter,
        indicator_value,
        is_missing_value,
        value_raw as submitted_value,
        submitted_unit,
        unit_factor,
        file_name,
        file_hash,
        sheet_name,
        row_number,
        column_number,
        load_seq,
        loaded_at,
        is_current
    from accepted

)

select * from final
