-- Gives a job that BLMOVE just moved into processing a lease: owner, fencing token and expiry.
-- KEYS[1] processing list   KEYS[2] leases zset (expiry ms)   KEYS[3] the job's hash
-- ARGV[1] job id   ARGV[2] worker id   ARGV[3] lease token   ARGV[4] now (ms)   ARGV[5] lease length (ms)
-- Returns {'claimed', field, value, ...} with the updated record, {'missing'} when the record is gone
-- (the id is dropped from processing), or {'gone'} when the id is no longer in processing (the sweeper
-- gave it back after the grace period, so another worker may run it).
local id = ARGV[1]
if redis.call('EXISTS', KEYS[3]) == 0 then
  redis.call('LREM', KEYS[1], 1, id)
  redis.call('ZREM', KEYS[2], id)
  return {'missing'}
end
if not redis.call('LPOS', KEYS[1], id) then return {'gone'} end
redis.call('HSET', KEYS[3], 'status', 'running', 'worker', ARGV[2], 'lease_token', ARGV[3], 'started_at', ARGV[4])
redis.call('HINCRBY', KEYS[3], 'attempts', 1)
redis.call('HDEL', KEYS[3], 'run_at')
redis.call('ZADD', KEYS[2], tonumber(ARGV[4]) + tonumber(ARGV[5]), id)
local reply = redis.call('HGETALL', KEYS[3])
table.insert(reply, 1, 'claimed')
return reply
