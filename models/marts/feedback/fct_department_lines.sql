-- 条线: per year, region and lead department (牵头部门), the indicators it answers for, their weight, the
-- points scored, the score rate, and its rank among the same department of the other regions in the class
-- ("市发改委 6 indicators, 19 points, scored 16.8, first in class Ⅱ"). Equal scores share the better rank.
{{ config(materialized=hqd.incremental_materialization(), unique_key='assessment_year', rebuilt_on='annual_values') }}
with

scores as (

    select * from {{ ref('fct_indicator_scores') }}
    where {{ hqd.years_to_rebuild() }}

),

lines as (

    select
        assessment_year,
        region_code,
        level,
        class_code,
        lead_department,
        count(*) as indicators_owned,
        sum(weight) as weight_total,
        sum(score_points) as score_total
    from scores
    group by assessment_year, region_code, level, class_code, lead_department

),

final as (

    select
        {{ hqd.composite_key(['assessment_year', 'region_code', 'lead_department']) }} as department_line_key,
        assessment_year,
        region_code,
        level,
        class_code,
        lead_department,
        cast(indicators_owned as integer) as indicators_owned,
        cast(weight_total as {{ hqd.type_measure() }}) as weight_total,
        cast(score_total as {{ hqd.type_measure() }}) as score_total,
        cast(round(score_total, 1) as {{ hqd.type_measure() }}) as score_total_display,
        cast({{ hqd.divide("score_total", "weight_total") }} as {{ hqd.type_measure() }}) as score_rate,
        cast(rank() over (
            partition by assessment_year, level, class_code, lead_department
            order by score_total desc
        ) as integer) as rank_in_class,
        cast(count(*) over (
            partition by assessment_year, level, class_code, lead_department
        ) as integer) as departments_in_class
    from lines

)

select * from final
