-- Which earlier code a region continues, so year-on-year comparisons survive a recode. A code with exactly
-- one predecessor continues it (海门市 320684 → 海门区 320614, 海安县 → 海安市); a code formed by a merger
-- (崇川区 320613 = 崇川 + 港闸) continues none of them and starts a lineage of its own.
with

regions as (

    select * from {{ ref('regions') }}

),

predecessors as (

    select
        successor_code as region_code,
        count(*) as predecessor_count,
        min(region_code) as first_predecessor_code
    from regions
    where successor_code is not null
    group by successor_code

),

lineage as (

    select
        regions.region_code,
        coalesce(predecessors.predecessor_count, 0) as predecessor_count,
        case when predecessors.predecessor_count = 1 then predecessors.first_predecessor_code end
            as continued_from_code,
        case when successor.predecessor_count = 1 then regions.successor_code else regions.region_code end
            as lineage_code
    from regions
    left join predecessors
        on regions.region_code = predecessors.region_code
    left join predecessors as successor
        on regions.successor_code = successor.region_code

)

select * from lineage
