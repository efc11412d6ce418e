-- An indicator can earn neither negative points nor more than its weight, whatever the method.
{{ config(meta={'dagster': {'ref': {'name': 'fct_indicator_scores'}}}) }}
select *
from {{ ref('fct_indicator_scores') }}
where score_points < 0 or score_points > weight or points_lost < 0
