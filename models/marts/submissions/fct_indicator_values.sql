-- Every accepted submission row, converted to its indicator's unit. Resubmissions stay queryable: the
-- latest load of a (region, indicator, period) is current and feeds the scores, earlier ones are superseded.
{{ config(materialized=hqd.incremental_materialization(), unique_key='assessment_year') }}
with

accepted as (

    select * from {{ ref('int_submissions_accepted') }}
    where {{ hqd.years_to_rebuild('period_year') }}

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
