{#- Model contracts name their types once, for every engine: `varchar` for text. Spark has no bare
    `varchar` (it wants a length) and calls text `string`, so on Spark the contract check reads `varchar`
    as `string`; every other type in the contracts (integer, bigint, boolean, date, timestamp,
    decimal(p, s)) means the same on all three engines. -#}
{% macro spark__get_empty_schema_sql(columns) %}
    select
    {% for i in columns -%}
        {%- set col = columns[i] -%}
        {%- set data_type = col['data_type'] -%}
        {%- if data_type is none -%}
            {{ exceptions.column_type_missing(column_names=[col['name']]) }}
        {%- endif -%}
        {%- if data_type.strip().lower() in ['varchar', 'text'] -%}
            {%- set data_type = 'string' -%}
        {%- endif %}
        cast(null as {{ data_type }}) as {{ adapter.quote(col['name']) if col.get('quote') else col['name'] }}
        {{- ", " if not loop.last }}
    {% endfor -%}
{% endmacro %}
