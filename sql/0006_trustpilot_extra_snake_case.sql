-- Trustpilot's extra fields were stored with their upstream camelCase names; every other API field is snake_case.
UPDATE posts
SET extra = (
  SELECT jsonb_object_agg(
           CASE key
             WHEN 'verificationLevel' THEN 'verification_level'
             WHEN 'experiencedAt' THEN 'experienced_at'
             WHEN 'updatedAt' THEN 'updated_at'
             WHEN 'businessDomain' THEN 'business_domain'
             ELSE key
           END,
           value)
  FROM jsonb_each(extra)
)
WHERE source = 'trustpilot'
  AND extra ?| ARRAY['verificationLevel', 'experiencedAt', 'updatedAt', 'businessDomain'];
