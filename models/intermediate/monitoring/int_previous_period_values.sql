-- For every region and year, each indicator's current value in each period (the year, or a quarter's year
-- to date) of the year before: the region's own if it existed then, else that of the one code it continues
-- (海门市 for 海门区 in 2021). A region formed by a merger continues no code and has none.
with

regions as (

    select * from {{ ref('int_regions_classified') }}

),

lineage as (

    select * from {{ ref('int_region_lineage') }}

),

current_values as (

    select * from {{ ref('fct_indicator_values') }}
    where is_current and indicator_value is not null

),

sources as (

    select
        regions.assessment_year,
        regions.region_code,
        case
            when last_year.region_code is not null then regions.region_code
            else lineage.continued_from_code
        end as source_region_code,
        case when last_year.region_code is not null then 'same_code' else 'predecessor_code' end
            as previous_year_basis
    from regions
    inner join lineage
        on regions.region_code = lineage.region_code
    left join regions as last_year
        on
            regions.region_code = last_year.region_code
            and regions.assessment_year = last_year.assessment_year + 1

),

previous as (

    select
        sources.assessment_year,
        current_values.quarter,
        sources.region_code,
        current_values.indicator_code,
        current_values.indicator_value as previous_year_value,
        sources.previous_year_basis
    from sources
    inner join current_values
        on
            sources.source_region_code = current_values.region_code
            and sources.assessment_year = current_values.assessment_year + 1

)

select * from previous
