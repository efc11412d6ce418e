{#- How one indicator value scores (DESIGN.md methodology): the one home of the formula. fct_indicator_scores
    scores every submitted value with it; the gap marts (fct_region_gaps) re-score a region at a value it did not
    reach, with the rank and the efficacy bounds that value would have had. Every argument is a SQL expression;
    the defaults are the column names of int_region_indicators_assessed. -#}

{#- Is the target met? null when there is no target or no value. -#}
{% macro is_target_met(value, direction='direction', target='target_value') -%}
    case
        when {{ target }} is null or {{ value }} is null then null
        when {{ direction }} = 'lower' then {{ value }} <= {{ target }}
        else {{ value }} >= {{ target }}
    end
{%- endmacro %}

{#- 功效系数 d = base + span (x - x_s) / (x_h - x_s) (60 + 40 in the reference); the same formula serves
    lower-is-better because x_h is then the smaller bound. Kept within [0, 100] when fixed bounds are exceeded.
    satisfactory / not_allowed are the bounds in use: the fixed ones of the rule, else the class's best / worst. -#}
{% macro efficacy_coefficient(
    value, satisfactory, not_allowed,
    scoring_method='scoring_method', efficacy_base='efficacy_base', efficacy_span='efficacy_span'
) -%}
    case
        when {{ scoring_method }} <> 'efficacy' or {{ value }} is null then null
        when {{ satisfactory }} = {{ not_allowed }} then 100
        else greatest(0, least(
                100,
                {{ efficacy_base }} + {{ efficacy_span }} * {{ hqd.divide(
                    value ~ " - " ~ not_allowed, satisfactory ~ " - " ~ not_allowed
                ) }}
            ))
    end
{%- endmacro %}

{#- Completion ratio of a target; where it is undefined (zero target, or zero value for lower-is-better) the
    target counts as met when the value is on the right side of it. -#}
{% macro completion_ratio(value, direction='direction', target='target_value', scoring_method='scoring_method') -%}
    case
        when {{ scoring_method }} <> 'target' or {{ value }} is null then null
        when {{ direction }} = 'lower' and {{ value }} = 0
            then case when {{ hqd.is_target_met(value, direction, target) }} then 1 else 0 end
        when {{ direction }} = 'lower' then greatest(0, least(1, {{ hqd.divide(target, value) }}))
        when {{ target }} = 0 then case when {{ hqd.is_target_met(value, direction, target) }} then 1 else 0 end
        else greatest(0, least(1, {{ hqd.divide(value, target) }}))
    end
{%- endmacro %}

{#- The points a value earns (unrounded): a missing value scores 0; rank points fall by rank_step per place. -#}
{% macro score_points(
    value, rank_in_class, satisfactory, not_allowed,
    direction='direction', scoring_method='scoring_method', weight='weight', target='target_value',
    efficacy_base='efficacy_base', efficacy_span='efficacy_span', rank_step='rank_step'
) -%}
    case
        when {{ value }} is null then 0
        when {{ scoring_method }} = 'efficacy' then {{ hqd.divide(
            weight ~ " * " ~ hqd.efficacy_coefficient(
                value, satisfactory, not_allowed, scoring_method, efficacy_base, efficacy_span
            ),
            "100"
        ) }}
        when {{ scoring_method }} = 'target'
            then {{ weight }} * {{ hqd.completion_ratio(value, direction, target, scoring_method) }}
        when {{ scoring_method }} = 'target_binary'
            then case when {{ hqd.is_target_met(value, direction, target) }} then {{ weight }} else 0 end
        when {{ scoring_method }} = 'rank'
            then {{ weight }} * greatest(0, 1 - {{ rank_step }} * ({{ rank_in_class }} - 1))
    end
{%- endmacro %}
