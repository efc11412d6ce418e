-- The indicator catalogue with its dimension (六个高质量) spelled out.
with

indicators as (

    select * from {{ ref('indicators') }}

),

dimensions as (

    select * from {{ ref('dimensions') }}

),

final as (

    select
        indicators.indicator_code,
        indicators.indicator_name_zh,
        indicators.indicator_name_en,
        indicators.dimension_code,
        dimensions.dimension_name_zh,
        dimensions.dimension_name_en,
        dimensions.sort_order as dimension_sort_order,
        indicators.unit,
        indicators.direction,
        indicators.accumulation,
        indicators.lead_department,
        indicators.value_min,
        indicators.value_max,
        indicators.catalog_source
    from indicators
    inner join dimensions
        on indicators.dimension_code = dimensions.dimension_code

)

select * from final
