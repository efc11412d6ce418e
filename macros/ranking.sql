{#- How regions are ordered and tiered: one home, used by int_region_assessments_ranked (the official result)
    and fct_rank_robustness (every draw of the weights), so a draw ranks and tiers exactly as the rules do. -#}

{#- The order of the rank in class (DESIGN.md): total desc, then indicators ranked first desc, then region code,
    so no ties remain. vetoed_last puts a vetoed region (一票否决) after every other one: the order tiers are
    dealt in. -#}
{% macro assessment_order(
    total='total_score', ranked_first='indicators_ranked_first', region='region_code',
    vetoed_last=false, vetoed='is_vetoed'
) -%}
    {%- if vetoed_last %}case when {{ vetoed }} then 1 else 0 end, {% endif -%}
    {{ total }} desc, {{ ranked_first }} desc, {{ region }} asc
{%- endmacro %}

{#- The tier of a position in the tier order: the first n1 first tier, the next n2 second, the rest third. -#}
{% macro tier_from_position(position, first_tier_count='first_tier_count', second_tier_count='second_tier_count') -%}
    case
        when {{ position }} <= {{ first_tier_count }} then 1
        when {{ position }} <= {{ first_tier_count }} + {{ second_tier_count }} then 2
        else 3
    end
{%- endmacro %}
