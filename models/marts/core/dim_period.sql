-- Assessment years and their quarters: the annual assessment period and the quarterly monitoring periods.
with

assessment_years as (

    select * from {{ ref('assessment_years') }}

),

quarters as (

    {% for quarter in [1, 2, 3, 4] -%}
    select {{ quarter }} as quarter, '{{ "%02d" | format(quarter * 3) }}-{{ ["31", "30", "30", "31"][quarter - 1] }}' as month_day_end
    {%- if not loop.last %}
    union all
    {% endif %}
    {%- endfor %}

),

years as (

    select
        {{ dbt.cast("assessment_year", api.Column.translate_type("string")) }} as period_code,
        'year' as period_type,
        assessment_year,
        cast(null as integer) as quarter,
        cast({{ dbt.concat([dbt.cast("assessment_year", api.Column.translate_type("string")), "'-01-01'"]) }} as date)
            as period_start_date,
        cast({{ dbt.concat([dbt.cast("assessment_year", api.Column.translate_type("string")), "'-12-31'"]) }} as date)
            as period_end_date,
        {{ dbt.concat([dbt.cast("assessment_year", api.Column.translate_type("string")), "'年度'"]) }} as period_label_zh,
        cast(results_published_on as date) as results_published_on
    from assessment_years

),

year_quarters as (

    select
        {{ dbt.concat([dbt.cast("assessment_years.assessment_year", api.Column.translate_type("string")), "'Q'", dbt.cast("quarters.quarter", api.Column.translate_type("string"))]) }}
            as period_code,
        'quarter' as period_type,
        assessment_years.assessment_year,
        quarters.quarter,
        -- year-to-date monitoring: every quarter's period starts on 1 January
        cast({{ dbt.concat([dbt.cast("assessment_years.assessment_year", api.Column.translate_type("string")), "'-01-01'"]) }} as date)
            as period_start_date,
        cast({{ dbt.concat([dbt.cast("assessment_years.assessment_year", api.Column.translate_type("string")), "'-'", "quarters.month_day_end"]) }} as date)
            as period_end_date,
        {{ dbt.concat([dbt.cast("assessment_years.assessment_year", api.Column.translate_type("string")), "'年第'", dbt.cast("quarters.quarter", api.Column.translate_type("string")), "'季度'"]) }}
            as period_label_zh,
        cast(null as date) as results_published_on
    from assessment_years
    cross join quarters

),

final as (

    select * from years
    union all
    select * from year_quarters

)

select * from final
