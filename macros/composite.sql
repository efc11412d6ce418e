{#- The composite-index engine's formulas (models/marts/composite, configured in seeds/composite): one home each.
    Normalisations give an indicator index from a value; aggregations combine indices with weights; DuckDB only,
    like the models that call them (they are built on demand, never in the main or engine builds). -#}

{#- Goalposts min-max: (f(x) - f(min)) / (f(max) - f(min)), f = ln when log-transformed, x held within the
    goalposts first when capped; mirrored (1 - index) when lower is better. Not capped, an index may leave
    [0, 1] (HDR life expectancy 86.9 years gives 1.03). -#}
{% macro composite_goalposts(
    value, goalpost_min='goalpost_min', goalpost_max='goalpost_max', is_capped='is_capped',
    is_log_transformed='is_log_transformed', direction='direction'
) -%}
    {%- set held = "case when " ~ is_capped ~ " then greatest(" ~ goalpost_min ~ ", least(" ~ goalpost_max
        ~ ", " ~ value ~ ")) else " ~ value ~ " end" -%}
    {%- set share -%}
        case
            when {{ is_log_transformed }}
                then (ln({{ held }}) - ln({{ goalpost_min }})) / (ln({{ goalpost_max }}) - ln({{ goalpost_min }}))
            else ({{ held }} - {{ goalpost_min }}) / ({{ goalpost_max }} - {{ goalpost_min }})
        end
    {%- endset -%}
    case
        when {{ value }} is null then null
        when {{ is_log_transformed }} and {{ held }} <= 0 then null
        when {{ direction }} = 'lower' then 1 - ({{ share }})
        else {{ share }}
    end
{%- endmacro %}

{#- z-score: (x - mean) / standard deviation (sample), negated when lower is better; null when the peer values do
    not vary. mean and sd are expressions over the peer group (window aggregates). -#}
{% macro composite_z_score(value, mean, sd, direction='direction') -%}
    case
        when {{ value }} is null or {{ sd }} is null or {{ sd }} = 0 then null
        when {{ direction }} = 'lower' then ({{ mean }} - {{ value }}) / {{ sd }}
        else ({{ value }} - {{ mean }}) / {{ sd }}
    end
{%- endmacro %}

{#- Distance to target: x / target (target / x when lower is better), within [0, 1]; a target met counts 1,
    also where the ratio is undefined (zero target, or zero value when lower is better). -#}
{% macro composite_distance_to_target(value, target='target_value', direction='direction') -%}
    case
        when {{ value }} is null or {{ target }} is null then null
        when {{ direction }} = 'lower' and {{ value }} <= {{ target }} then 1
        when {{ direction }} = 'lower' then greatest(0, {{ target }} / {{ value }})
        when {{ value }} >= {{ target }} then 1
        else greatest(0, {{ value }} / {{ target }})
    end
{%- endmacro %}

{#- Weighted mean of indices within a group (an aggregate expression): arithmetic sum(w x) / sum(w), or
    geometric exp(sum(w ln x) / sum(w)), which is 0 when an index is 0 and undefined (null) when one is
    negative. Null when any index of the group is missing: nothing is imputed. -#}
{% macro composite_weighted_mean(aggregation, value, weight) -%}
    case
        when count({{ value }}) < count(*) then null
        when any_value({{ aggregation }}) = 'geometric' and min({{ value }}) < 0 then null
        when any_value({{ aggregation }}) = 'geometric' and min({{ value }}) = 0 then 0
        when any_value({{ aggregation }}) = 'geometric'
            then exp(sum({{ weight }} * ln(greatest({{ value }}, 1e-300))) / sum({{ weight }}))
        else sum({{ weight }} * {{ value }}) / sum({{ weight }})
    end
{%- endmacro %}

{#- Rank within a partition, highest first: `competition` (equal values share the better rank: 1, 2, 2, 4) or
    `ordinal` (equal values ordered by tie_breaker: 1, 2, 3, 4). Units without a value get no rank. -#}
{% macro composite_rank(rank_method, value, partition_by, tie_breaker) -%}
    case
        when {{ value }} is null then null
        when {{ rank_method }} = 'ordinal'
            then row_number() over (partition by {{ partition_by }} order by {{ value }} desc, {{ tie_breaker }})
        else rank() over (partition by {{ partition_by }} order by {{ value }} desc)
    end
{%- endmacro %}
