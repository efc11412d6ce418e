-- Nothing is lost between landing and the marts: every raw row is either an accepted value or a rejected
-- row, exactly once. Returns a row (fails) when the counts differ.
{{ config(meta={'dagster': {'ref': {'name': 'fct_rejected_submissions'}}}) }}
with counts as (

    select
        (select count(*) from {{ source('landing', 'submissions') }}) as raw_rows,
        (select count(*) from {{ ref('fct_indicator_values') }}) as accepted_rows,
        (select count(*) from {{ ref('fct_rejected_submissions') }}) as rejected_rows

)

select * from counts
where raw_rows <> accepted_rows + rejected_rows
