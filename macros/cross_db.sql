{#- Engine-specific SQL lives only here, behind adapter.dispatch, so the models stay portable. -#}

{#- The n-th capture group of a regex match, or null when the text does not match. -#}
{% macro regexp_group(expr, pattern, group) -%}
    {{ return(adapter.dispatch('regexp_group', 'hqd')(expr, pattern, group)) }}
{%- endmacro %}

{% macro default__regexp_group(expr, pattern, group) -%}
    nullif(regexp_extract({{ expr }}, '{{ pattern }}', {{ group }}), '')
{%- endmacro %}

{% macro postgres__regexp_group(expr, pattern, group) -%}
    nullif((regexp_match({{ expr }}, '{{ pattern }}'))[{{ group }}], '')
{%- endmacro %}

{#- The numeric type of every measured value and score: exact decimal, same meaning on every engine. -#}
{% macro type_measure() -%}
    {{ return(adapter.dispatch('type_measure', 'hqd')()) }}
{%- endmacro %}

{% macro default__type_measure() -%}
    decimal(38, 10)
{%- endmacro %}

{#- Points and other bounded sums that are added together: 18 digits before the point is plenty, and the
    narrower type lets every engine add two of them exactly (Spark shortens the scale of a sum past 38 digits). -#}
{% macro type_points() -%}
    decimal(28, 10)
{%- endmacro %}

{#- A text value as a measure, null when it is not a number. (dbt.safe_cast is a plain cast on
    dbt-duckdb, which fails the whole model on one bad cell.) -#}
{% macro safe_to_measure(expr) -%}
    {{ return(adapter.dispatch('safe_to_measure', 'hqd')(expr)) }}
{%- endmacro %}

{% macro default__safe_to_measure(expr) -%}
    try_cast({{ expr }} as {{ hqd.type_measure() }})
{%- endmacro %}

{#- DuckDB parses text into decimal(38, x) (a 128-bit integer) about 20 times slower than into decimal(18, x);
    a value that fits 18 digits takes the fast cast, the rest the wide one: the same numbers (make bench). -#}
{% macro duckdb__safe_to_measure(expr) -%}
    coalesce(
        cast(try_cast({{ expr }} as decimal(18, 10)) as {{ hqd.type_measure() }}),
        try_cast({{ expr }} as {{ hqd.type_measure() }})
    )
{%- endmacro %}

{#- PostgreSQL has no try_cast: the text must look like a number, and its size must fit the type (28 digits
    before the point), else the cast fails the model. Unconstrained numeric takes any exponent of up to 4 digits;
    a larger one (1e99999) is null like the other numbers beyond the type. -#}
{% macro postgres__safe_to_measure(expr) -%}
    case when {{ expr }} ~ '^[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]{1,4})?$'
        then case when abs(cast({{ expr }} as numeric)) < 1e28 then cast({{ expr }} as {{ hqd.type_measure() }}) end
    end
{%- endmacro %}

{#- '2023年第1季度', '2023年第一季度', '2023-Q1', '2023 q1' → '20231' / '2023Q1'; '2023年' → '2023'. -#}
{% macro compact_period(expr) -%}
    {%- set ns = namespace(text="upper(" ~ expr ~ ")") -%}
    {%- for old, new in [(' ', ''), ('年度', ''), ('年', ''), ('第', ''), ('季度', ''), ('-', ''),
                         ('一', '1'), ('二', '2'), ('三', '3'), ('四', '4')] -%}
        {%- set ns.text = "replace(" ~ ns.text ~ ", '" ~ old ~ "', '" ~ new ~ "')" -%}
    {%- endfor -%}
    {{ ns.text }}
{%- endmacro %}

{#- Does the whole text match the pattern? -#}
{% macro regexp_full_match(expr, pattern) -%}
    {{ return(adapter.dispatch('regexp_full_match', 'hqd')(expr, pattern)) }}
{%- endmacro %}

{% macro default__regexp_full_match(expr, pattern) -%}
    regexp_full_match({{ expr }}, '{{ pattern }}')
{%- endmacro %}

{% macro postgres__regexp_full_match(expr, pattern) -%}
    ({{ expr }} ~ '^(?:{{ pattern }})$')
{%- endmacro %}

{% macro spark__regexp_full_match(expr, pattern) -%}
    ({{ expr }} rlike '^(?:{{ pattern }})$')
{%- endmacro %}

{#- Configuration rows hold year ranges: year_from..year_to, a blank year_to meaning "still in force" (regions
    name theirs valid_from_year..valid_to_year). The one place the open end is written. -#}
{% macro in_year_range(year_expr, config_alias, from_column='year_from', to_column='year_to') -%}
    {{ year_expr }} between {{ config_alias }}.{{ from_column }} and coalesce({{ config_alias }}.{{ to_column }}, 9999)
{%- endmacro %}

{#- Post-hook: give PostgreSQL's planner statistics on a table the moment it is built. Without them a model
    read right after its parent was created plans nested loops over 100k-row tables (seen: minutes vs seconds). -#}
{% macro refresh_statistics() -%}
    {{ return(adapter.dispatch('refresh_statistics', 'hqd')()) }}
{%- endmacro %}

{% macro default__refresh_statistics() -%}
{%- endmacro %}

{% macro postgres__refresh_statistics() -%}
    {%- if config.get('materialized') in ['table', 'incremental'] -%}
        analyze {{ this }}
    {%- endif -%}
{%- endmacro %}

{#- Division of measures, in 8-byte floating point on every engine. DuckDB already divides decimals in double;
    PostgreSQL would divide exactly and Spark would cut a decimal quotient to 6 places (0.8333333333 became
    0.833333), so the operands are made double everywhere and the caller casts the result to the measure type. -#}
{% macro divide(numerator, denominator) -%}
    (cast({{ numerator }} as {{ hqd.type_double() }}) / cast({{ denominator }} as {{ hqd.type_double() }}))
{%- endmacro %}

{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'hqd')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double
{%- endmacro %}

{% macro postgres__type_double() -%}
    double precision
{%- endmacro %}

{#- A uniform number in (0, 1) from a hash of the parts: the same on every engine and in Python, so a draw of the
    robustness analysis is reproducible from its seed and never depends on random() or on row order. The parts
    are joined by '|' as text (hqd.composite_key); u = (first 8 hex digits of md5 as an integer + 0.5) / 2^32.
    Python: (int(hashlib.md5(text.encode()).hexdigest()[:8], 16) + 0.5) / 2**32. -#}
{% macro hash_uniform(parts) -%}
    ((cast({{ hqd.hex_to_bigint("substr(md5(" ~ hqd.composite_key(parts, '|') ~ "), 1, 8)") }} as {{ hqd.type_double() }})
        + 0.5) / 4294967296.0)
{%- endmacro %}

{#- A text of hexadecimal digits (at most 15) as a bigint. -#}
{% macro hex_to_bigint(expr) -%}
    {{ return(adapter.dispatch('hex_to_bigint', 'hqd')(expr)) }}
{%- endmacro %}

{% macro default__hex_to_bigint(expr) -%}
    cast(concat('0x', {{ expr }}) as bigint)
{%- endmacro %}

{% macro postgres__hex_to_bigint(expr) -%}
    cast(cast(concat('x', lpad({{ expr }}, 16, '0')) as bit(64)) as bigint)
{%- endmacro %}

{% macro spark__hex_to_bigint(expr) -%}
    cast(conv({{ expr }}, 16, 10) as bigint)
{%- endmacro %}

{#- PostgreSQL estimates a chain of CTEs at a few rows and then joins them in nested loops, which turns a model that
    sorts and groups whole peer groups quadratic (fct_region_gaps: minutes instead of seconds on the sample). Such a
    model turns nested loops off for its own transaction; other engines need nothing. -#}
{% macro avoid_nested_loops() -%}
    {{ return(adapter.dispatch('avoid_nested_loops', 'hqd')()) }}
{%- endmacro %}

{% macro default__avoid_nested_loops() -%}{%- endmacro %}

{% macro postgres__avoid_nested_loops() -%}
    set local enable_nestloop = off
{%- endmacro %}
