{#- The Chinese-labelled BI views (models/marts_zh) are carried into each release as views over the release's
    own tables (hqd/publication/files.py). A view body naming the warehouse's catalog ("hqd".marts.x) would not
    resolve in the release file, so these views name schema and table only; DuckDB binds them in the catalog
    that holds the view, PostgreSQL and Spark have no catalog part. -#}
{% macro published_ref(model_name) -%}
    {{ return(ref(model_name).include(database=False)) }}
{%- endmacro %}

{#- Numbers as BI shows them: two decimals, rounded half away from zero (the cast rounds so on DuckDB,
    PostgreSQL and Spark). Scores, points, rates and every indicator unit of the catalogue read with two. -#}
{% macro display_number(expr) -%}
    cast({{ expr }} as decimal(18, 2))
{%- endmacro %}

{#- One category's label row (dim_category_label) for a code column; a class is labelled by level. -#}
{% macro join_label(alias, category, code_expr) -%}
    left join {{ hqd.published_ref('dim_category_label') }} as {{ alias }}
        on {{ alias }}.category = '{{ category }}' and {{ alias }}.code = {{ code_expr }}
{%- endmacro %}

{% macro join_class_label(alias, level_expr, class_expr) -%}
    left join {{ hqd.published_ref('dim_category_label') }} as {{ alias }}
        on {{ alias }}.category = {{ dbt.concat(["'class_code:'", level_expr]) }} and {{ alias }}.code = {{ class_expr }}
{%- endmacro %}

{#- The region version (dim_region, an SCD) in force in the fact's year: its name that year. -#}
{% macro join_region_in_year(alias, code_expr, year_expr) -%}
    left join {{ hqd.published_ref('dim_region') }} as {{ alias }}
        on {{ alias }}.region_code = {{ code_expr }}
        and {{ year_expr }} between {{ alias }}.valid_from_year and {{ alias }}.valid_to_year
{%- endmacro %}
