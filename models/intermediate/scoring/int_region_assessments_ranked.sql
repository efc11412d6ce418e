-- One row per (year, region): total, dimension subtotals, rank in class, province rank (counties), tier.
-- fct_region_assessment adds the year-on-year progress.
-- Ranks use unrounded totals; ties break on indicators ranked first, then region code, so none remain.
-- A vetoed region (一票否决) keeps its rank but is placed after every other region when tiers are dealt.
-- depends_on: {{ ref('dimensions') }}
with

totals as (

    select * from {{ ref('int_region_totals_computed') }}

),

tier_quotas as (

    {{ hqd.rules_source(
        'tier_quotas',
        keys=['level', 'class_code'],
        values=['first_tier_count', 'second_tier_count'],
        scenario_seed='scenario_tier_quotas'
    ) }}

),

tier_names as (

    select * from {{ ref('tier_names') }}

),

ranked as (

    select
        *,
        count(*) over (partition by assessment_year, level, class_code) as class_size,
        row_number() over (
            partition by assessment_year, level, class_code order by {{ hqd.assessment_order() }}
        ) as rank_in_class,
        row_number() over (
            partition by assessment_year, level order by {{ hqd.assessment_order() }}
        ) as rank_in_level,
        row_number() over (
            partition by assessment_year, level, class_code order by {{ hqd.assessment_order(vetoed_last=true) }}
        ) as tier_position
    from totals

),

tiered as (

    select
        ranked.*,
        tier_quotas.first_tier_count,
        tier_quotas.second_tier_count,
        {{ hqd.tier_from_position(
            'ranked.tier_position', 'tier_quotas.first_tier_count', 'tier_quotas.second_tier_count'
        ) }} as tier
    from ranked
    inner join tier_quotas
        on ranked.level = tier_quotas.level
            and ranked.class_code = tier_quotas.class_code
            and {{ hqd.in_year_range('ranked.assessment_year', 'tier_quotas') }}

),

named as (

    select
        tiered.*,
        tier_names.tier_name_zh
    from tiered
    left join tier_names
        on tiered.tier = tier_names.tier

),

final as (

    select
        {{ hqd.composite_key(['assessment_year', 'region_code']) }} as region_assessment_key,
        assessment_year,
        region_code,
        level,
        class_code,
        cast(class_size as integer) as class_size,
        cast(indicators_assessed as integer) as indicators_assessed,
        cast(missing_values as integer) as missing_values,
        cast(indicators_ranked_first as integer) as indicators_ranked_first,
        cast(indicators_in_class_top_two as integer) as indicators_in_class_top_two,
        cast(weight_total as {{ hqd.type_measure() }}) as weight_total,
        cast(indicator_points as {{ hqd.type_measure() }}) as indicator_points,
        {% for dimension in hqd.dimension_codes() -%}
            cast({{ dimension }}_points as {{ hqd.type_measure() }}) as {{ dimension }}_points,
        {% endfor -%}
        cast(bonus_points as {{ hqd.type_measure() }}) as bonus_points,
        cast(deduction_points as {{ hqd.type_measure() }}) as deduction_points,
        is_vetoed,
        cast(total_score as {{ hqd.type_measure() }}) as total_score,
        cast(round(total_score, 2) as {{ hqd.type_measure() }}) as total_score_display,
        cast(rank_in_class as integer) as rank_in_class,
        cast(case when level = 'county' then rank_in_level end as integer) as province_rank,
        cast(tier as integer) as tier,
        tier_name_zh
    from named

)

select * from final
