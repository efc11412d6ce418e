-- One row per region and assessment year in which it existed, with its class that year. A county takes
-- its prefecture city's class unless region_classes gives the county a class of its own.
with

regions as (

    select * from {{ ref('regions') }}

),

assessment_years as (

    select assessment_year from {{ ref('assessment_years') }}

),

region_classes as (

    select * from {{ ref('region_classes') }}

),

region_years as (

    select
        assessment_years.assessment_year,
        regions.*
    from regions
    inner join assessment_years
        on {{ hqd.in_year_range('assessment_years.assessment_year', 'regions', 'valid_from_year', 'valid_to_year') }}

),

classified as (

    select
        region_years.assessment_year,
        region_years.region_code,
        region_years.region_name,
        region_years.short_name,
        region_years.level,
        region_years.region_type,
        region_years.parent_code,
        region_years.area_zh,
        region_years.successor_code,
        region_years.census2020_population,
        coalesce(own_class.class_code, parent_class.class_code) as class_code
    from region_years
    left join region_classes as own_class
        on region_years.region_code = own_class.region_code
            and {{ hqd.in_year_range('region_years.assessment_year', 'own_class') }}
    left join region_classes as parent_class
        on region_years.parent_code = parent_class.region_code
            and {{ hqd.in_year_range('region_years.assessment_year', 'parent_class') }}

)

select * from classified
