-- The data-quality report for the office: per landed file, how many rows were read, how many were loaded,
-- how many were rejected for each reason with the first examples (row and value as sent), the sheets left
-- out of a loaded workbook (a 填报说明 sheet without a header), and the files that could not be read at all.
{%- set string_type = api.Column.translate_type("string") %}
{{ config(materialized=hqd.incremental_materialization(), unique_key='file_hash') }}
with

accepted as (

    select * from {{ ref('fct_indicator_values') }}
    where {{ hqd.rows_after_watermark() }}

),

rejected as (

    select * from {{ ref('fct_rejected_submissions') }}
    where {{ hqd.rows_after_watermark() }}

),

load_errors as (

    select * from {{ source('landing', 'load_errors') }}

),

landing_notes as (

    select * from {{ source('landing', 'landing_notes') }}
    where {{ hqd.rows_after_watermark() }}

),

-- one row per loaded file with skipped sheets: the notes joined in sheet order
skipped_sheets as (

    select
        file_hash,
        file_name,
        load_seq,
        max(noted_at) as noted_at,
        {{ dbt.listagg(measure="note", delimiter_text="'; '", order_by_clause="order by sheet_name") }} as notes
    from landing_notes
    group by file_hash, file_name, load_seq

),

outcomes as (

    select
        file_hash,
        file_name,
        load_seq,
        loaded_at,
        'accepted' as outcome,
        row_number,
        column_number,
        submitted_value as value_raw
    from accepted
    union all
    select
        file_hash,
        file_name,
        load_seq,
        loaded_at,
        rejection_reason as outcome,
        row_number,
        column_number,
        value_raw
    from rejected

),

numbered as (

    select
        *,
        row_number() over (
            partition by file_hash, outcome order by row_number, column_number
        ) as example_position
    from outcomes

),

examples as (

    select
        file_hash,
        outcome,
        {{ dbt.listagg(
            measure=dbt.concat([
                "'row '", dbt.cast("row_number", string_type),
                "case when column_number is null then '' else "
                ~ dbt.concat(["' col '", dbt.cast("column_number", string_type)]) ~ " end",
                "': '", "coalesce(value_raw, '(blank)')"
            ]),
            delimiter_text="'; '",
            order_by_clause="order by example_position"
        ) }} as example_rows
    from numbered
    where example_position <= 3 and outcome <> 'accepted'
    group by file_hash, outcome

),

counted as (

    select
        file_hash,
        file_name,
        load_seq,
        loaded_at,
        outcome,
        count(*) as outcome_rows
    from outcomes
    group by file_hash, file_name, load_seq, loaded_at, outcome

),

per_file as (

    select
        counted.*,
        sum(counted.outcome_rows) over (partition by counted.file_hash) as file_rows,
        examples.example_rows
    from counted
    left join examples
        on
            counted.file_hash = examples.file_hash
            and counted.outcome = examples.outcome

),

file_totals as (

    select
        file_hash,
        max(file_rows) as file_rows
    from per_file
    group by file_hash

),

unreadable as (

    select
        file_hash,
        file_name,
        error_message,
        attempted_at,
        row_number() over (partition by file_hash order by attempted_at desc) as attempt_recency
    from load_errors

),

final as (

    select
        {{ hqd.composite_key(['file_hash', 'outcome'], ':') }} as file_quality_key,
        file_name,
        file_hash,
        cast(load_seq as integer) as load_seq,
        loaded_at,
        outcome,
        outcome = 'accepted' as is_accepted,
        cast(outcome_rows as integer) as outcome_rows,
        cast(file_rows as integer) as file_rows,
        cast({{ hqd.divide("outcome_rows", "file_rows") }} as {{ hqd.type_measure() }}) as share_of_file,
        example_rows,
        cast(null as {{ string_type }}) as error_message
    from per_file
    union all
    select
        {{ hqd.composite_key(['file_hash', "'unreadable_file'"], ':') }} as file_quality_key,
        file_name,
        file_hash,
        cast(null as integer) as load_seq,
        attempted_at as loaded_at,
        'unreadable_file' as outcome,
        false as is_accepted,
        0 as outcome_rows,
        0 as file_rows,
        cast(null as {{ hqd.type_measure() }}) as share_of_file,
        cast(null as {{ string_type }}) as example_rows,
        error_message
    from unreadable
    where attempt_recency = 1
    union all
    select
        {{ dbt.concat(["skipped_sheets.file_hash", "':skipped_sheet'"]) }} as file_quality_key,
        skipped_sheets.file_name,
        skipped_sheets.file_hash,
        cast(skipped_sheets.load_seq as integer) as load_seq,
        skipped_sheets.noted_at as loaded_at,
        'skipped_sheet' as outcome,
        false as is_accepted,
        0 as outcome_rows,
        cast(coalesce(file_totals.file_rows, 0) as integer) as file_rows,
        cast(null as {{ hqd.type_measure() }}) as share_of_file,
        cast(null as {{ string_type }}) as example_rows,
        skipped_sheets.notes as error_message
    from skipped_sheets
    left join file_totals
        on skipped_sheets.file_hash = file_totals.file_hash

)

select * from final
