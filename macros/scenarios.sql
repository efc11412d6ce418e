{#- Scenarios (方案测算): the same assessment models scored under a named set of rule overrides
    (seeds/scenarios/), built beside the official result by `hqd scenario run CODE --years ...`.

    A scenario run passes `--vars {scenario: CODE, scenario_years: [..]}` and selects only the assessment path
    (the models tagged scenario_path in dbt_project.yml), the scenario seeds and models/scenarios/. Then
      * the path models go to their own schemas (scenario_<code>_intermediate, scenario_<code>_marts:
        generate_schema_name), everything else (values, regions, official seeds) resolves to the official
        relations by name, since their schemas do not change;
      * hqd.rules_source() gives the path models the scenario's effective rules instead of the official seed;
      * incremental models are plain tables and the build state (hqd_build_state) is neither read nor written
        (macros/incremental.sql), so the official watermarks never move.
    Without the var every macro here renders exactly what the models said before: the official build is
    unchanged. -#}

{% macro scenario_code() -%}
    {{ return(var('scenario', none)) }}
{%- endmacro %}

{#- The assessed years of the scenario run (every configured year when the var is empty). -#}
{% macro scenario_years() -%}
    {{ return(var('scenario_years', []) | map('int') | list) }}
{%- endmacro %}

{#- A scenario's own schema for a path model's configured schema: scenario_draft_2025_marts. -#}
{% macro scenario_schema(custom_schema_name) -%}
    {{ return('scenario_' ~ (hqd.scenario_code() | lower | replace('-', '_')) ~ '_' ~ (custom_schema_name | trim)) }}
{%- endmacro %}

{#- The official relation of a model, whatever schema it is built into in this run (the comparison reads
    both). A model calling it declares `-- depends_on: {{ ref('model') }}`. -#}
{% macro official_relation(model_name) -%}
    {%- set node = graph.nodes.get('model.' ~ project_name ~ '.' ~ model_name) if execute else none -%}
    {%- if node is none -%}{{ return(ref(model_name)) }}{%- endif -%}
    {{ return(api.Relation.create(
        database=node.database,
        schema=(node.config.schema | trim) if node.config.schema else target.schema,
        identifier=node.alias or node.name
    )) }}
{%- endmacro %}

{#- The assessed years and their rules year (the scenario's rules_year, else the year itself), as a subquery. -#}
{% macro scenario_years_subquery() -%}
    (
        select
            assessment_years.assessment_year,
            coalesce(scenario.rules_year, assessment_years.assessment_year) as rules_year
        from {{ ref('assessment_years') }} as assessment_years
        cross join (
            select rules_year from {{ ref('scenarios') }}
            where scenario_code = '{{ hqd.scenario_code() }}'
        ) as scenario
        {%- if hqd.scenario_years() %}
        where assessment_years.assessment_year in ({{ hqd.scenario_years() | join(', ') }})
        {%- endif %}
    )
{%- endmacro %}

{#- The rows of a rule seed a model reads. Official build: the seed as it is. Scenario build: per assessed year,
    the seed's row in force in the rules year, replaced (same key) by the scenario's override from
    `scenario_<seed>` where it has one (an override may also add a key, or drop one where `droppable`);
    year_from = year_to = the assessed year, so the models join the rows by year exactly as they join the seed. -#}
{% macro rules_source(seed, keys, values, scenario_seed=none, droppable=false) -%}
    {%- if not hqd.scenario_code() -%}
        select * from {{ ref(seed) }}
    {%- else -%}
        {%- set override = ref(scenario_seed) if scenario_seed else none -%}
        {%- set columns = keys + values -%}
        select * from (
            select
                years.assessment_year as year_from,
                years.assessment_year as year_to,
                {%- for column in columns %}
                official.{{ column }},
                {%- endfor %}
                false as is_dropped
            from {{ hqd.scenario_years_subquery() }} as years
            inner join {{ ref(seed) }} as official
                on {{ hqd.in_year_range('years.rules_year', 'official') }}
            {%- if override %}
            where not exists (
                select 1 from {{ override }} as scenario_rule
                where scenario_rule.scenario_code = '{{ hqd.scenario_code() }}'
                    and {{ hqd.in_year_range('years.rules_year', 'scenario_rule') }}
                    {%- for key in keys %}
                    and scenario_rule.{{ key }} = official.{{ key }}
                    {%- endfor %}
            )
            union all
            select
                years.assessment_year as year_from,
                years.assessment_year as year_to,
                {%- for column in columns %}
                scenario_rule.{{ column }},
                {%- endfor %}
                {{ 'coalesce(scenario_rule.is_dropped, false)' if droppable else 'false' }} as is_dropped
            from {{ hqd.scenario_years_subquery() }} as years
            inner join {{ override }} as scenario_rule
                on scenario_rule.scenario_code = '{{ hqd.scenario_code() }}'
                    and {{ hqd.in_year_range('years.rules_year', 'scenario_rule') }}
            {%- endif %}
        ) as effective_rules
        where not is_dropped
    {%- endif -%}
{%- endmacro %}

{#- true when two values differ, a null differing from any value but another null (IS DISTINCT FROM, spelled so
    that every engine and sqlfluff's parser read it). -#}
{% macro null_safe_differs(left, right) -%}
    not (coalesce({{ left }} = {{ right }}, false) or ({{ left }} is null and {{ right }} is null))
{%- endmacro %}
