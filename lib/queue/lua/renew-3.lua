-- Extends a running job's lease and records its progress, only for the lease holder.
-- KEYS[1] leases zset   KEYS[2] the job's hash   KEYS[3] stats hash (counts fenced_rejections)
-- ARGV[1] job id   ARGV[2] lease token   ARGV[3] now (ms)   ARGV[4] lease length (ms)   ARGV[5] progress JSON or ''
-- Returns -1 when the token no longer holds the lease, 1 when a cancel was requested, else 0.
if redis.call('HGET', KEYS[2], 'lease_token') ~= ARGV[2] then
  redis.call('HINCRBY', KEYS[3], 'fenced_rejections', 1)
  return -1
end
redis.call('ZADD', KEYS[1], tonumber(ARGV[3]) + tonumber(ARGV[4]), ARGV[1])
if ARGV[5] ~= '' then redis.call('HSET', KEYS[2], 'progress', ARGV[5]) end
if redis.call('HGET', KEYS[2], 'cancel_requested') == '1' then return 1 end
return 0
