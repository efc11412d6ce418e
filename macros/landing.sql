{#- How submitted cells are read: the forms bureaus really type, in one place for the staging model. -#}

{#- Dash forms used as a minus sign (‐ ‑ ‒ – − ﹣ －: U+2010, U+2011, U+2012, U+2013, U+2212, U+FE63, U+FF0D)
    read as '-'. The em dash — is not among them: '—' and '——' mark a missing value, as '-' alone does. -#}
{% macro normalise_minus(expr) -%}
    {%- set ns = namespace(text=expr) -%}
    {%- for dash in ['‐', '‑', '‒', '–', '−', '﹣', '－'] -%}
        {%- set ns.text = "replace(" ~ ns.text ~ ", '" ~ dash ~ "', '-')" -%}
    {%- endfor -%}
    {{ ns.text }}
{%- endmacro %}

{#- An accounting negative, (0.57) or （4.3） (full-width brackets become ASCII at ingest), as -0.57. -#}
{% macro accounting_negative(expr) -%}
    case
        when {{ expr }} like '(%)' and length({{ expr }}) > 2
            then {{ dbt.concat(["'-'", "substr(" ~ expr ~ ", 2, length(" ~ expr ~ ") - 2)"]) }}
        else {{ expr }}
    end
{%- endmacro %}

{#- A year-to-date period as the office writes it, 2023年1-3月 .. 2023年1-12月 (1-3月 is Q1, 1-6月 Q2, 1-9月 Q3,
    1-12月 the year), as '2023Q1' .. '2023'; null for any other text. -#}
{% macro cumulative_period(expr) -%}
    {%- set pattern = '^([0-9]{4})年?1[-~至到](3|6|9|12)月份?$' -%}
    case {{ hqd.regexp_group(expr, pattern, 2) }}
        when '3' then {{ dbt.concat([hqd.regexp_group(expr, pattern, 1), "'Q1'"]) }}
        when '6' then {{ dbt.concat([hqd.regexp_group(expr, pattern, 1), "'Q2'"]) }}
        when '9' then {{ dbt.concat([hqd.regexp_group(expr, pattern, 1), "'Q3'"]) }}
        when '12' then {{ hqd.regexp_group(expr, pattern, 1) }}
    end
{%- endmacro %}

{#- A period cell as 'YYYY' or 'YYYYQn' (any other text as compact_period leaves it), in two steps (spaces and
    dashes, then the patterns): staging parses every period so, and the incremental build finds the years new loads
    touch with the same expressions (macros/incremental.sql). -#}
{% macro period_clean(expr) -%}
    {{ hqd.normalise_minus("replace(coalesce(" ~ expr ~ ", ''), ' ', '')") }}
{%- endmacro %}

{% macro period_compact(clean_expr) -%}
    coalesce({{ hqd.cumulative_period(clean_expr) }}, {{ hqd.compact_period(clean_expr) }})
{%- endmacro %}
