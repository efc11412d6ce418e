-- For every region and year, each indicator's annual value of the year before: the region's own, or that of
-- the one code it continues (海门市 for 海门区 in 2021). A region formed by a merger has none.
with

regions as (

    select * from {{ ref('int_regions_classified') }}

),

lineage as (

    select * from {{ ref('int_region_lineage') }}

),

annual_values as (

    select * from {{ ref('int_submissions_accepted') }}
    where is_current and period_type = 'year'

),

previous as (

    select
        regions.assessment_year,
        regions.region_code,
        coalesce(own_value.indicator_code, predecessor_value.indicator_code) as indicator_code,
        coalesce(own_value.indicator_value, predecessor_value.indicator_value) as previous_year_value,
        case when own_value.region_code is not null then 'same_code' else 'predecessor_code' end
            as previous_year_basis
    from regions
    inner join lineage
        on regions.region_code = lineage.region_code
    left join annual_values as own_value
        on
            regions.region_code = own_value.region_code
            and regions.assessment_year = own_value.period_year + 1
    left join annual_values as predecessor_value
        on
            lineage.continued_from_code = predecessor_value.region_code
            and regions.assessment_year = predecessor_value.period_year + 1
            and own_value.region_code is null

)

select * from previous
where indicator_code is not null
