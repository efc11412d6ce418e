-- Screening for analysts (issue 15 item 4), never in the official score: per (year, level, dimension) the
-- Pearson correlation of every pair of the dimension's indicators over the regions of the level that reported
-- both (pairwise complete, as COINr's get_corr), each value oriented so that higher is better (a lower-is-better
-- indicator enters negated, COINr's use_directions), and COINr's get_corr_flags flags within a group: collinear
-- when r > 0.9 (its default cor_thresh, thresh_type "high": possible double counting), and a trade-off when
-- r < −0.4 (thresh_type "low"; the threshold is this project's, screening_parameters). Flags on unrounded r.
-- Incremental by year like fct_indicator_scores, whose annual rows are its only input (a quarter's files rebuild
-- nothing here); the pre-hook first removes every year being recomputed, so a year screening_parameters no longer
-- covers leaves no stale rows behind.
{{ config(
    materialized=hqd.incremental_materialization(),
    unique_key='assessment_year',
    rebuilt_on='annual_values',
    pre_hook="{% if is_incremental() %}delete from {{ this }} where {{ hqd.years_to_rebuild() }}{% endif %}"
) }}
with

scores as (

    select
        assessment_year,
        region_code,
        level,
        dimension_code,
        indicator_code,
        cast(indicator_value as {{ hqd.type_double() }})
        * case when direction = 'lower' then -1 else 1 end as oriented_value
    from {{ ref('fct_indicator_scores') }}
    where {{ hqd.years_to_rebuild() }}

),

run_parameters as (

    select
        assessment_years.assessment_year,
        configured.collinearity_threshold,
        configured.negative_correlation_threshold
    from {{ ref('screening_parameters') }} as configured
    inner join {{ ref('assessment_years') }} as assessment_years
        on {{ hqd.in_year_range('assessment_years.assessment_year', 'configured') }}

),

pairs as (

    select
        first_indicator.assessment_year,
        first_indicator.level,
        first_indicator.dimension_code,
        first_indicator.indicator_code,
        second_indicator.indicator_code as other_indicator_code,
        count(
            case
                when first_indicator.oriented_value is not null and second_indicator.oriented_value is not null
                    then 1
            end
        ) as regions_with_both,
        -- undefined (null) where either indicator does not vary over the pairs: DuckDB's corr() gives NaN there,
        -- which no decimal holds (PostgreSQL and Spark give null)
        case
            when
                var_pop(case when second_indicator.oriented_value is not null then first_indicator.oriented_value end)
                > 0
                and var_pop(
                    case when first_indicator.oriented_value is not null then second_indicator.oriented_value end
                ) > 0
                then corr(first_indicator.oriented_value, second_indicator.oriented_value)
        end as pearson_r
    from scores as first_indicator
    inner join scores as second_indicator
        on first_indicator.assessment_year = second_indicator.assessment_year
            and first_indicator.region_code = second_indicator.region_code
            and first_indicator.dimension_code = second_indicator.dimension_code
            and first_indicator.indicator_code < second_indicator.indicator_code
    group by
        first_indicator.assessment_year, first_indicator.level, first_indicator.dimension_code,
        first_indicator.indicator_code, second_indicator.indicator_code

),

final as (

    select
        {{ hqd.composite_key([
            'pairs.assessment_year', 'pairs.level', 'pairs.indicator_code', 'pairs.other_indicator_code'
        ]) }} as indicator_correlation_key,
        pairs.assessment_year,
        pairs.level,
        pairs.dimension_code,
        pairs.indicator_code,
        pairs.other_indicator_code,
        cast(pairs.regions_with_both as integer) as regions_with_both,
        cast(pairs.pearson_r as {{ hqd.type_measure() }}) as pearson_r,
        coalesce(pairs.pearson_r > run_parameters.collinearity_threshold, false) as is_collinear,
        coalesce(pairs.pearson_r < run_parameters.negative_correlation_threshold, false) as is_negatively_correlated
    from pairs
    inner join run_parameters
        on pairs.assessment_year = run_parameters.assessment_year

)

select * from final
