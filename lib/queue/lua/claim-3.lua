-- Gives a job that BLMOVE just moved into processing a lease: owner, fencing token and expiry.
-- KEYS[1] processing list   KEYS[2] leases zset (expiry ms)   KEYS[3] the job's hash
-- ARGV[1] job id   ARGV[2] worker id   ARGV[3] lease token   ARGV[4] now (ms)   ARGV[5] lease length (ms)
-- Returns {'claimed', field, value, ...} with the record (as HGETALL gave it before the claim, then the fields the
-- claim wrote, which override the earlier ones), {'missing'} when the record is gone (the id is dropped from
-- processing), or {'gone'} when the id is no longer in processing (the sweeper gave it back after the grace
-- period, so another worker may run it).
local id = ARGV[1]
local record = redis.call('HGETALL', KEYS[3])
if #record == 0 then
  redis.call('LREM', KEYS[1], 1, id)
  redis.call('ZREM', KEYS[2], id)
  return {'missing'}
end
if not redis.call('LPOS', KEYS[1], id) then return {'gone'} end
local claimed = claim_fields(record, ARGV[2], ARGV[3], ARGV[4])
redis.call('HSET', KEYS[3], unpack(claimed))
redis.call('ZADD', KEYS[2], tonumber(ARGV[4]) + tonumber(ARGV[5]), id)
table.insert(record, 1, 'claimed')
for _, item in ipairs(claimed) do table.insert(record, item) end
return record
