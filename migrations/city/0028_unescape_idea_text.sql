-- Idea titles, place names and the text searched were stored HTML-escaped
-- (by the sanitiser that stripped their markup) and pages escaped them
-- again: "auto's" read "auto&#39;s". They are now stored as typed. Every
-- row was written by that sanitiser, whose escaping is exactly these five
-- entities, so replacing them (&amp; last) gives back what was typed. A
-- title that would become shorter than its rule allows stays as it is.
UPDATE ideas SET title = u.title
FROM (SELECT id, replace(replace(replace(replace(replace(title, '&lt;', '<'), '&gt;', '>'), '&#34;', '"'), '&#39;', ''''), '&amp;', '&') AS title
      FROM ideas WHERE strpos(title, '&') > 0) u
WHERE ideas.id = u.id AND length(btrim(u.title)) >= 3;

UPDATE ideas SET location_name = replace(replace(replace(replace(replace(location_name, '&lt;', '<'), '&gt;', '>'), '&#34;', '"'), '&#39;', ''''), '&amp;', '&')
WHERE strpos(location_name, '&') > 0;

UPDATE ideas SET body_text = replace(replace(replace(replace(replace(body_text, '&lt;', '<'), '&gt;', '>'), '&#34;', '"'), '&#39;', ''''), '&amp;', '&')
WHERE strpos(body_text, '&') > 0;

-- The titles of the statuses a city added (custom) went through the same
-- sanitiser, in each language; the statuses every city starts with did not.
UPDATE idea_statuses SET title = (
    SELECT jsonb_object_agg(key, replace(replace(replace(replace(replace(value, '&lt;', '<'), '&gt;', '>'), '&#34;', '"'), '&#39;', ''''), '&amp;', '&'))
    FROM jsonb_each_text(title))
WHERE custom AND strpos(title::text, '&') > 0;
