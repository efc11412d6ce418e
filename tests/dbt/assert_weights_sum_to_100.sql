-- 分道竞技 gives each (year, level, class) its own weights, but each set must total 100 points, or totals
-- across classes and years stop being comparable.
-- A scenario (方案测算, var scenario) may try weights that do not total 100 on purpose: there it only warns.
{{ config(
    meta={'dagster': {'ref': {'name': 'int_indicator_rules_by_year'}}},
    severity=('warn' if var('scenario', none) else 'error')
) }}
select
    assessment_year,
    level,
    class_code,
    sum(weight) as weight_total
from {{ ref('int_indicator_rules_by_year') }}
group by assessment_year, level, class_code
having sum(weight) <> 100
