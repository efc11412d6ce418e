{#- Use the configured schema name as is (staging, marts, config) rather than dbt's
    <target>_<custom> concatenation: BI users and the ingest step address these schemas by name.
    A scenario run (var `scenario`, macros/scenarios.sql) builds the assessment path (tag scenario_path) into
    the scenario's own schemas, scenario_<code>_<schema>, beside the official ones. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- elif var('scenario', none) and node is not none and 'scenario_path' in (node.tags or []) -%}
        {{ hqd.scenario_schema(custom_schema_name) }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
