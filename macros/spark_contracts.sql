{#- Model contracts name their types once, for every engine: `varchar` for text. Spark has no bare
    `varchar` (it wants a length) and calls text `string`, so on Spark the contract check reads `varchar`
    as `string` and `timestamp` as `timestamp_ntz`; the other types in the contracts (integer, bigint,
    boolean, date, decimal(p, s)) mean the same on all three engines. -#}
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
        {%- elif data_type.strip().lower() == 'timestamp' -%}
            {#- SQL's timestamp has no time zone; Spark's `timestamp` is local-time-zone, `timestamp_ntz` is not -#}
            {%- set data_type = 'timestamp_ntz' -%}
        {%- endif %}
        cast(null as {{ data_type }}) as {{ adapter.quote(col['name']) if col.get('quote') else col['name'] }}
        {{- ", " if not loop.last }}
    {% endfor -%}
{% endmacro %}

{#- Seeds on Spark: dbt-spark's session method pastes each value into the INSERT as '<value>' without escaping
    (an apostrophe in "people's" breaks the statement) and turns a blank cell into the text 'None'. Render each
    value as a proper Spark literal instead: null stays null, text is escaped, and the declared or inferred
    type is applied by a cast, exactly as the other engines load it. -#}
{% macro spark__load_csv_rows(model, agate_table) %}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
        {%- set sql -%}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
                ({%- for col_name in agate_table.column_names -%}
                    {%- set column_type = column_override.get(col_name, adapter.convert_type(agate_table, loop.index0)) -%}
                    cast({{ hqd.spark_literal(row[loop.index0]) }} as {{ column_type }})
                    {%- if not loop.last %}, {% endif -%}
                {%- endfor -%})
                {%- if not loop.last %},{% endif %}
            {% endfor -%}
        {%- endset -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- if loop.first -%}{%- do statements.append(sql) -%}{%- endif -%}
    {%- endfor -%}
    {{ return(statements[0]) }}
{% endmacro %}

{% macro spark_literal(value) -%}
    {%- if value is none -%}
        null
    {%- else -%}
        '{{ value | string | replace("\\", "\\\\") | replace("'", "\\'") }}'
    {%- endif -%}
{%- endmacro %}
