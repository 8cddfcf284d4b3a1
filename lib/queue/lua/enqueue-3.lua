-- Creates a job record and puts its id into the pending list at its priority's place.
-- KEYS[1] pending list   KEYS[2] recent jobs zset (created_at)   KEYS[3] the job's hash
-- ARGV[1] job id   ARGV[2] job key prefix   ARGV[3] created_at (ms)   ARGV[4] priority
-- ARGV[5..] field, value pairs of the record
-- Returns 1 when created, 0 when a job with that id already exists.
if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
redis.call('HSET', KEYS[3], unpack(ARGV, 5))
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
insert_pending(KEYS[1], ARGV[2], ARGV[1], tonumber(ARGV[4]), false)
return 1
