{#- One home for each rule the models share: composite keys, period codes, year ranges, dimensions. -#}

{#- A key made of several columns joined by a separator, e.g. composite_key(['assessment_year', 'region_code'])
    → '2023-320583'. Each part is cast to text and a null part counts as empty text on every engine: DuckDB's and
    PostgreSQL's concat() skip a null, Spark's returns null for the whole key. An optional part is appended with
    its separator only when it is not null (a submission's column number: '<hash>:<sheet>:<row>[:<column>]'). -#}
{% macro composite_key(parts, separator='-', optional_parts=[]) -%}
    {%- set string_type = api.Column.translate_type('string') -%}
    {%- set pieces = [] -%}
    {%- for part in parts -%}
        {%- if not loop.first -%}{%- do pieces.append("'" ~ separator ~ "'") -%}{%- endif -%}
        {%- do pieces.append("coalesce(" ~ dbt.cast(part, string_type) ~ ", '')") -%}
    {%- endfor -%}
    {%- for part in optional_parts -%}
        {%- do pieces.append(
            "case when " ~ part ~ " is null then '' else "
            ~ dbt.concat(["'" ~ separator ~ "'", dbt.cast(part, string_type)]) ~ " end"
        ) -%}
    {%- endfor -%}
    {{ dbt.concat(pieces) }}
{%- endmacro %}

{#- The period code of a year ('2023') or of a quarter of it ('2023Q1'); quarter_expr none for years only. -#}
{% macro period_code(year_expr, quarter_expr=none) -%}
    {%- set string_type = api.Column.translate_type('string') -%}
    {%- set year_text = dbt.cast(year_expr, string_type) -%}
    {%- if quarter_expr is none -%}
        {{ year_text }}
    {%- else -%}
        case
            when {{ quarter_expr }} is null then {{ year_text }}
            else {{ dbt.concat([year_text, "'Q'", dbt.cast(quarter_expr, string_type)]) }}
        end
    {%- endif -%}
{%- endmacro %}

{#- The dimension codes (六个高质量) in their sort order, read from the loaded `dimensions` seed when the model
    runs, so the subtotal columns follow seeds/reference/dimensions.csv (or the seed tree HQD_SEEDS_DIR names).
    The seed is found through the graph rather than ref(), which a unit test replaces by its fixture. A model
    calling this declares `-- depends_on: {{ ref('dimensions') }}` so the seed is loaded first. At parse time,
    and where the seed is not loaded (sqlfluff compiles against an empty database), no codes: the models must
    stay valid SQL without the columns, and a mart's contract then fails loudly rather than guess them. -#}
{% macro dimension_codes() -%}
    {%- if not execute -%}{{ return([]) }}{%- endif -%}
    {%- set seed = (graph.get('nodes') or {}).get('seed.' ~ project_name ~ '.dimensions') -%}
    {%- set relation = adapter.get_relation(seed.database, seed.schema, seed.alias or seed.name) if seed else none -%}
    {%- if relation is none -%}{{ return([]) }}{%- endif -%}
    {%- set rows = run_query('select dimension_code from ' ~ relation ~ ' order by sort_order, dimension_code').rows -%}
    {{ return(rows | map(attribute=0) | list) }}
{%- endmacro %}
