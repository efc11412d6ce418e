-- 条线 for BI: per region, year and lead department the indicators owned, weight, points, score rate and rank
-- among the class's same departments, with names and two-decimal numbers. A view over the published marts.
with

lines as (

    select * from {{ hqd.published_ref('fct_department_lines') }}

),

final as (

    select
        lines.department_line_key,
        lines.assessment_year,
        lines.region_code,
        region.region_name,
        level_label.label_zh as level_zh,
        level_label.sort_order as level_sort_order,
        class_label.label_zh as class_name_zh,
        class_label.sort_order as class_sort_order,
        lines.lead_department,
        lines.indicators_owned,
        {{ hqd.display_number('lines.weight_total') }} as weight_total,
        {{ hqd.display_number('lines.score_total') }} as score_total,
        {{ hqd.display_number('lines.score_rate') }} as score_rate,
        lines.rank_in_class,
        lines.departments_in_class
    from lines
    {{ hqd.join_region_in_year('region', 'lines.region_code', 'lines.assessment_year') }}
    {{ hqd.join_label('level_label', 'level', 'lines.level') }}
    {{ hqd.join_class_label('class_label', 'lines.level', 'lines.class_code') }}

)

select * from final
