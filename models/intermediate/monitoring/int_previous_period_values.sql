-- For every region, year and period kind (the year itself, or a quarter's year to date), each indicator's
-- current value in the same period of the year before: the region's own, or that of the one code it
-- continues (海门市 for 海门区 in 2021). A region formed by a merger has none.
with

regions as (

    select * from {{ ref('int_regions_classified') }}

),

lineage as (

    select * from {{ ref('int_region_lineage') }}

),

current_values as (

    select * from {{ ref('int_submissions_accepted') }}
    where is_current and indicator_value is not null

),

-- 0 stands for the annual period, 1-4 for the quarters
period_kinds as (

    {% for quarter in [0, 1, 2, 3, 4] -%}
        select {{ quarter }} as quarter_or_zero
        {%- if not loop.last %}
            union all
        {% endif %}
    {%- endfor %}

),

previous as (

    select
        regions.assessment_year,
        case when period_kinds.quarter_or_zero = 0 then null else period_kinds.quarter_or_zero end as quarter,
        regions.region_code,
        coalesce(own_value.indicator_code, predecessor_value.indicator_code) as indicator_code,
        coalesce(own_value.indicator_value, predecessor_value.indicator_value) as previous_year_value,
        case when own_value.region_code is not null then 'same_code' else 'predecessor_code' end
            as previous_year_basis
    from regions
    inner join lineage
        on regions.region_code = lineage.region_code
    cross join period_kinds
    left join current_values as own_value
        on
            regions.region_code = own_value.region_code
            and regions.assessment_year = own_value.period_year + 1
            and period_kinds.quarter_or_zero = coalesce(own_value.period_quarter, 0)
    left join current_values as predecessor_value
        on
            lineage.continued_from_code = predecessor_value.region_code
            and regions.assessment_year = predecessor_value.period_year + 1
            and period_kinds.quarter_or_zero = coalesce(predecessor_value.period_quarter, 0)
            and own_value.region_code is null

)

select * from previous
where indicator_code is not null
