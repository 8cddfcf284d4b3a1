-- Names the backup job about to be created as the one in progress, unless another backup is waiting or running.
-- KEYS[1] backup marker (the id of the backup in progress)
-- ARGV[1] the new job's id   ARGV[2] how long the marker lives (ms): longer than a backup can run   ARGV[3] job key prefix
-- Returns 'claimed', or the id of the backup in progress (a marker whose job is finished or gone is taken over).
local current = redis.call('GET', KEYS[1])
if current then
  local status = redis.call('HGET', ARGV[3] .. current, 'status')
  if status and not is_final(status) then return current end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 'claimed'
