-- Per (year, region): the indicator points by dimension, the adjustments, and the total the ranks use.
-- One subtotal column per dimension of the dimensions seed (hqd.dimension_codes).
-- depends_on: {{ ref('dimensions') }}
with

scores as (

    select * from {{ ref('fct_indicator_scores') }}

),

regions as (

    select * from {{ ref('int_regions_classified') }}

),

adjustments as (

    select * from {{ ref('adjustments') }}

),

indicator_points as (

    select
        assessment_year,
        region_code,
        count(*) as indicators_assessed,
        sum(case when is_value_missing then 1 else 0 end) as missing_values,
        sum(case when is_ranked_first then 1 else 0 end) as indicators_ranked_first,
        sum(case when is_in_class_top_two then 1 else 0 end) as indicators_in_class_top_two,
        {% for dimension in hqd.dimension_codes() -%}
            sum(case when dimension_code = '{{ dimension }}' then score_points else 0 end) as {{ dimension }}_points,
        {% endfor -%}
        sum(weight) as weight_total,
        sum(score_points) as indicator_points
    from scores
    group by assessment_year, region_code

),

adjustment_totals as (

    select
        assessment_year,
        region_code,
        sum(case when adjustment_type = 'bonus' then points else 0 end) as bonus_points,
        sum(case when adjustment_type in ('deduction', 'provisional_deduction') then points else 0 end)
            as deduction_points,
        max(case when adjustment_type = 'veto' then 1 else 0 end) = 1 as is_vetoed
    from adjustments
    group by assessment_year, region_code

),

totals as (

    select
        regions.assessment_year,
        regions.region_code,
        regions.level,
        regions.class_code,
        indicator_points.indicators_assessed,
        indicator_points.missing_values,
        indicator_points.indicators_ranked_first,
        indicator_points.indicators_in_class_top_two,
        indicator_points.weight_total,
        indicator_points.indicator_points,
        {% for dimension in hqd.dimension_codes() -%}
            indicator_points.{{ dimension }}_points,
        {% endfor -%}
        coalesce(adjustment_totals.bonus_points, 0) as bonus_points,
        coalesce(adjustment_totals.deduction_points, 0) as deduction_points,
        coalesce(adjustment_totals.is_vetoed, false) as is_vetoed,
        -- added as decimal(28, 10): two decimal(38, 10) would overflow 38 digits, and Spark then cuts the scale
        cast(indicator_points.indicator_points as {{ hqd.type_points() }})
        + cast(coalesce(adjustment_totals.bonus_points, 0) as {{ hqd.type_points() }})
        - cast(coalesce(adjustment_totals.deduction_points, 0) as {{ hqd.type_points() }}) as total_score
    from regions
    inner join indicator_points
        on regions.assessment_year = indicator_points.assessment_year
            and regions.region_code = indicator_points.region_code
    left join adjustment_totals
        on regions.assessment_year = adjustment_totals.assessment_year
            and regions.region_code = adjustment_totals.region_code

)

select * from totals
