-- Assessment years and their quarters: the annual assessment period and the quarterly monitoring periods.
{%- set string_type = api.Column.translate_type("string") %}
{%- set year_text = dbt.cast("assessment_years.assessment_year", string_type) %}
{%- set quarter_text = dbt.cast("quarters.quarter", string_type) %}
with

assessment_years as (

    select * from {{ ref('assessment_years') }}

),

quarters as (

    {% for quarter in [1, 2, 3, 4] -%}
        select
            {{ quarter }} as quarter,
            '{{ ["03-31", "06-30", "09-30", "12-31"][quarter - 1] }}' as month_day_end
        {%- if not loop.last %}
            union all
        {% endif %}
    {%- endfor %}

),

years as (

    select
        {{ hqd.period_code('assessment_years.assessment_year') }} as period_code,
        'year' as period_type,
        assessment_years.assessment_year,
        cast(null as integer) as quarter,
        cast({{ dbt.concat([year_text, "'-01-01'"]) }} as date) as period_start_date,
        cast({{ dbt.concat([year_text, "'-12-31'"]) }} as date) as period_end_date,
        {{ dbt.concat([year_text, "'年度'"]) }} as period_label_zh,
        cast(assessment_years.results_published_on as date) as results_published_on
    from assessment_years

),

year_quarters as (

    select
        {{ hqd.period_code('assessment_years.assessment_year', 'quarters.quarter') }} as period_code,
        'quarter' as period_type,
        assessment_years.assessment_year,
        quarters.quarter,
        -- year-to-date monitoring: every quarter's period starts on 1 January
        cast({{ dbt.concat([year_text, "'-01-01'"]) }} as date) as period_start_date,
        cast({{ dbt.concat([year_text, "'-'", "quarters.month_day_end"]) }} as date) as period_end_date,
        {{ dbt.concat([year_text, "'年第'", quarter_text, "'季度'"]) }} as period_label_zh,
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
