-- The accepted rows, each marked current or superseded. The latest load of a (region, indicator, period)
-- wins; within one file the later row wins (identical duplicates only: conflicting ones were rejected).
{{ config(materialized=hqd.incremental_materialization(), unique_key='period_year') }}
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

)

select * from accepted
