-- 高质量发展先进县(市、区): per class, the configured number of counties with the best totals, no veto.
with

assessments as (

    select * from {{ ref('fct_region_assessment') }}
    where level = 'county'

),

quotas as (

    select * from {{ ref('advanced_county_quotas') }}

),

candidates as (

    select
        assessments.*,
        quotas.advanced_quota,
        quotas.selection_rule,
        row_number() over (
            partition by assessments.assessment_year, assessments.class_code
            order by assessments.rank_in_class
        ) as position_among_eligible
    from assessments
    inner join quotas
        on assessments.class_code = quotas.class_code
            and assessments.assessment_year between quotas.year_from and coalesce(quotas.year_to, 9999)
    where not assessments.is_vetoed

),

final as (

    select
        {{ dbt.concat([dbt.cast("assessment_year", api.Column.translate_type("string")), "'-'", "region_code"]) }}
            as advanced_county_key,
        assessment_year,
        region_code,
        class_code,
        rank_in_class,
        province_rank,
        total_score,
        tier,
        cast(position_among_eligible as integer) as position_among_eligible,
        cast(advanced_quota as integer) as advanced_quota,
        selection_rule
    from candidates
    where position_among_eligible <= advanced_quota

)

select * from final
