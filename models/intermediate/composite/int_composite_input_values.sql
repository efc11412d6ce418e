{#- The engine's one input: every composite index's values as one long table (index, unit, year, indicator,
    value). A new index adds its staging model here and its rows to seeds/composite; nothing else changes. -#}
{%- set index_inputs = [ref('stg_undp_hdr__indicator_values')] -%}

{% for index_input in index_inputs %}
    select
        index_code,
        unit_code,
        unit_name,
        is_aggregate,
        year,
        indicator_code,
        indicator_value
    from {{ index_input }}
    {% if not loop.last %}union all{% endif %}
{% endfor %}
