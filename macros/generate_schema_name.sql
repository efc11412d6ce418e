{#- Use the configured schema name as is (staging, marts, config) rather than dbt's
    <target>_<custom> concatenation: BI users and the ingest step address these schemas by name. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
