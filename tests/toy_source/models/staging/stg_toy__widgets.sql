-- Widgets, one row each; archived widgets (flagged _sl_deleted by the load) left out.
select
    'toy:' || cast(id as varchar) as widget_key,
    name as widget_name,
    owner_id
from toy.widgets
where not coalesce(_sl_deleted, false)
