-- Every region that existed in a year is assessed on exactly 100 points of weight: a region missing from
-- the class configuration, or a rule matching no region, would show here.
{{ config(meta={'dagster': {'ref': {'name': 'fct_region_assessment'}}}) }}
select
    regions.assessment_year,
    regions.region_code,
    assessments.weight_total
from {{ ref('int_regions_classified') }} as regions
left join {{ ref('fct_region_assessment') }} as assessments
    on regions.assessment_year = assessments.assessment_year
        and regions.region_code = assessments.region_code
where assessments.weight_total is null or assessments.weight_total <> 100
