-- Phase dates are years a city could mean (1900–2200), as the service
-- checks. NOT VALID: rows stored before the rule stay, and the reads clamp
-- them, so a stray year-0 phase can be edited back instead of breaking the
-- portal.
ALTER TABLE phases ADD CONSTRAINT phases_sensible_dates CHECK (
    starts_at >= '1900-01-01 00:00:00+00' AND starts_at <= '2200-12-31 23:59:59+00'
    AND (ends_at IS NULL OR (ends_at >= '1900-01-01 00:00:00+00' AND ends_at <= '2200-12-31 23:59:59+00'))
) NOT VALID;
