-- Regions as a slowly changing dimension: a new version whenever the name, type, parent or class changes
-- (gaps-and-islands over the region-year rows), so a fact joins the version in force in its year.
with

region_years as (

    select * from {{ ref('int_regions_classified') }}

),

assessment_years as (

    select max(assessment_year) as last_assessment_year from {{ ref('assessment_years') }}

),

islands as (

    select
        *,
        assessment_year - row_number() over (
            partition by region_code, region_name, level, region_type, parent_code, class_code
            order by assessment_year
        ) as island_id
    from region_years

),

versions as (

    select
        region_code,
        region_name,
        short_name,
        level,
        region_type,
        parent_code,
        area_zh,
        class_code,
        successor_code,
        census2020_population,
        min(assessment_year) as valid_from_year,
        max(assessment_year) as valid_to_year
    from islands
    group by
        region_code, region_name, short_name, level, region_type, parent_code, area_zh, class_code,
        successor_code, census2020_population, island_id

),

final as (

    select
        {{ hqd.composite_key(['versions.region_code', 'versions.valid_from_year'], '@') }} as region_version_key,
        versions.region_code,
        versions.region_name,
        versions.short_name,
        versions.level,
        versions.region_type,
        versions.parent_code,
        versions.area_zh,
        versions.class_code,
        versions.valid_from_year,
        versions.valid_to_year,
        versions.valid_to_year = assessment_years.last_assessment_year as is_current,
        versions.successor_code,
        versions.census2020_population
    from versions
    cross join assessment_years

)

select * from final
