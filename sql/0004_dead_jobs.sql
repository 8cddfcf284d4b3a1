-- Jobs quarantined after killing their worker on every attempt are recorded as 'dead'.
ALTER TABLE jobs DROP CONSTRAINT jobs_status_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_status_check CHECK (status IN ('completed', 'failed', 'cancelled', 'dead'));
