/**
 * The one Lua call per batch. ARGV layout (flat, built by `RedisBatchBuilder`):
 *   streamMaxLen,
 *   latestGroups, then per group: valuesKey, timesKey, fieldCount, then (field, value, timeMs) × fieldCount,
 *   streamEntries, then per entry: streamKey, pairCount, then (name, value) × pairCount.
 * Latest values are newer-wins per field: a value older than what Redis holds (a re-sent batch after a crash, or
 * out-of-order devices) does not overwrite it. Returns the number of latest fields written.
 * Keys travel in ARGV, not KEYS: fine on a single server; the cluster mode groups calls by hash slot.
 */
export const BATCH_SCRIPT = `
local i = 1
local maxlen = ARGV[1]
local groups = tonumber(ARGV[2])
i = 3
local written = 0
for g = 1, groups do
  local vk, tk, n = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  i = i + 3
  for f = 1, n do
    local field, value, ts = ARGV[i], ARGV[i + 1], ARGV[i + 2]
    i = i + 3
    local held = redis.call('HGET', tk, field)
    if (not held) or tonumber(held) <= tonumber(ts) then
      redis.call('HSET', vk, field, value)
      redis.call('HSET', tk, field, ts)
      written = written + 1
    end
  end
end
local entries = tonumber(ARGV[i])
i = i + 1
for e = 1, entries do
  local sk, n = ARGV[i], tonumber(ARGV[i + 1])
  i = i + 2
  local args = { 'XADD', sk, 'MAXLEN', '~', maxlen, '*' }
  for p = 1, n * 2 do
    args[6 + p] = ARGV[i]
    i = i + 1
  end
  redis.call(unpack(args))
end
return written
`;
