{#- The composite index per unit and year: the dimension indices combined by the index's weighted mean, rounded
    as published, ranked among the year's units (aggregates are never ranked nor tiered), and tiered by
    cut-offs on the ranked value or by quotas of places in rank order (seeds/composite). -#}

with combined as (
    select
        dimension_scores.index_code,
        dimension_scores.unit_code,
        any_value(dimension_scores.unit_name) as unit_name,
        any_value(dimension_scores.is_aggregate) as is_aggregate,
        dimension_scores.year,
        count(*) as dimensions_count,
        count(dimension_scores.dimension_index) as dimensions_scored,
        {{ hqd.composite_weighted_mean(
            'indices.dimension_aggregation', 'dimension_scores.dimension_index', 'dimension_scores.weight'
        ) }} as index_value
    from {{ ref('fct_composite_dimension_scores') }} as dimension_scores
    inner join {{ ref('composite_indices') }} as indices
        on dimension_scores.index_code = indices.index_code
    group by dimension_scores.index_code, dimension_scores.unit_code, dimension_scores.year
),

rounded as (
    select
        combined.*,
        indices.rank_method,
        indices.tier_method,
        indices.is_rounded_before_ranking,
        case
            when indices.rounding_digits is null then combined.index_value
            else round(combined.index_value, indices.rounding_digits)
        end as index_value_rounded
    from combined
    inner join {{ ref('composite_indices') }} as indices
        on combined.index_code = indices.index_code
),

ranked_values as (
    select
        *,
        case
            when is_aggregate then null
            when is_rounded_before_ranking then index_value_rounded
            else index_value
        end as ranked_value
    from rounded
),

ranked as (
    select
        *,
        {{ hqd.composite_rank('rank_method', 'ranked_value', 'index_code, year', 'unit_code') }} as index_rank
    from ranked_values
),

tier_places as (
    select
        *,
        coalesce(sum(quota) over (
            partition by index_code order by sort_order rows between unbounded preceding and 1 preceding
        ), 0) as places_before
    from {{ ref('composite_tiers') }}
),

tiered as (
    select
        ranked.*,
        tier_places.tier_code,
        tier_places.tier_name,
        tier_places.sort_order as tier_sort_order
    from ranked
    left join tier_places
        on
            ranked.index_code = tier_places.index_code
            and ranked.index_rank is not null
            and (
                (
                    ranked.tier_method = 'cutoffs'
                    and (tier_places.lower_bound is null or ranked.ranked_value >= tier_places.lower_bound)
                )
                or (
                    ranked.tier_method = 'quotas'
                    and ranked.index_rank > tier_places.places_before
                    and (
                        tier_places.quota is null
                        or ranked.index_rank <= tier_places.places_before + tier_places.quota
                    )
                )
            )
    qualify
        row_number() over (
            partition by ranked.index_code, ranked.unit_code, ranked.year order by tier_places.sort_order
        ) = 1
)

select
    {{ hqd.composite_key(['index_code', 'unit_code', 'year']) }} as composite_index_key,
    index_code,
    unit_code,
    unit_name,
    is_aggregate,
    year,
    dimensions_count,
    dimensions_scored,
    index_value,
    index_value_rounded,
    ranked_value,
    cast(index_rank as integer) as index_rank,
    tier_code,
    tier_name,
    tier_sort_order
from tiered
