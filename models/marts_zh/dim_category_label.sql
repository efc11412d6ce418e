-- Every category code the marts hold, with its Chinese and English label and display order, in one published
-- table: the marts_zh views join it, so they resolve inside a release (which holds marts, not the seeds).
{{ config(materialized='table', schema='marts') }}
with

category_labels as (

    select
        category,
        code,
        label_zh,
        label_en,
        sort_order
    from {{ ref('category_labels') }}

),

tiers as (

    select
        'tier' as category,
        {{ dbt.cast('tier', api.Column.translate_type('string')) }} as code,
        tier_name_zh as label_zh,
        tier_name_en as label_en,
        sort_order
    from {{ ref('tier_names') }}

),

warning_levels as (

    select
        'warning_level' as category,
        warning_level as code,
        warning_level_zh as label_zh,
        warning_level_en as label_en,
        sort_order
    from {{ ref('warning_levels') }}

),

rejection_reasons as (

    select
        'rejection_reason' as category,
        reason_code as code,
        description_zh as label_zh,
        description_en as label_en,
        sort_order
    from {{ ref('rejection_reasons') }}

),

classes as (

    -- a class is named by level: Ⅰ类设区市, Ⅰ类县(市、区)
    select
        {{ dbt.concat(["'class_code:'", 'level']) }} as category,
        class_code as code,
        class_name_zh as label_zh,
        class_name_en as label_en,
        sort_order
    from {{ ref('assessment_classes') }}

),

unioned as (

    select * from category_labels
    union all
    select * from tiers
    union all
    select * from warning_levels
    union all
    select * from rejection_reasons
    union all
    select * from classes

),

final as (

    select
        {{ hqd.composite_key(['category', 'code'], ':') }} as category_label_key,
        category,
        code,
        label_zh,
        label_en,
        sort_order
    from unioned

)

select * from final
