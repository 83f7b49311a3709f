/** Hash fields per HSET: far below what `unpack` takes (8 000 values). */
export const HSET_PAIRS = 1000;

/**
 * Values in one stream entry (`ts`, the tags, the fields, as name-value pairs) at most: XADD takes them through one
 * `unpack`, which refuses 8 000 (an entry of 3 998 pairs was measured to work, 4 000 not); a margin is kept.
 */
export const MAX_ENTRY_PAIRS = 3900;

/**
 * The one Lua call per batch. ARGV (built by `RedisBatchBuilder`):
 *   1 streamMaxLen
 *   2 origin (the spool's identity)
 *   3 JSON [[valuesKey, timesKey, [field, value, timeMs, field, value, timeMs, …]], …]   latest values
 *   4 JSON [[streamKey, position, [name, value, name, value, …]], …]                       stream entries
 * Two JSON arguments instead of a dozen per point: ioredis then writes four arguments per batch (the two JSON
 * ones as the Buffers the builder wrote), and Redis's C cjson decodes them far faster than it parses a quarter of
 * a million bulk strings.
 *
 * Latest values are newer-wins per field: a value older than what Redis holds (a re-sent batch after a crash,
 * out-of-order devices) does not overwrite it.
 * Stream entries are exactly-once per spool: `<streamKey>:applied` holds, per spool origin, the highest spool
 * position already appended; an entry at or below the value held before this batch was appended before (the
 * batch is being sent again after a crash) and is skipped. Positions of one origin only grow and one batch per
 * sink is in flight, in order; the lines of one entry share its position and the script is atomic, so an entry is
 * applied whole or not at all. Within a batch the entries need not be in position order (the builder orders them
 * by timestamp, see RedisBatchBuilder): only a failure mid-batch depends on it, and it records the position below
 * the lowest entry not appended, so a retry may append again what came after (a duplicate), never skip (a loss).
 * Returns { latest fields written, stream entries appended, stream entries skipped as duplicates }.
 * Keys travel in ARGV, not KEYS: fine on a single server.
 *
 * No batch content can reach Lua's limits: `unpack` refuses 8 000 values or more (its C stack, LUAI_MAXCSTACK;
 * measured on Redis 7.0: a hash of 4 000 fields in one HSET failed with "too many results to unpack" and took the
 * whole batch, every other device's points with it). Hashes are written `HSET_PAIRS` pairs at a time (one HSET of
 * 1 000 pairs costs the same per pair as one of 10); a stream entry is one XADD, so the builder refuses a point whose
 * entry would not fit (`MAX_ENTRY_PAIRS`).
 * A Redis script is not rolled back when a command in it fails: what ran before stays. So the body runs under
 * pcall, the stream positions of the entries appended before the failure are recorded all the same (an entry
 * partly appended is not), and the error is then returned as it was: the sink keeps the batch (transient errors)
 * or splits it to find the entry Redis refuses, and the entries already appended are not appended twice.
 */
export const BATCH_SCRIPT = `
local maxlen, origin = ARGV[1], ARGV[2]
local latest = cjson.decode(ARGV[3])
local streams = cjson.decode(ARGV[4])
local written, appended, skipped = 0, 0, 0
local before, highest, pending = {}, {}, {}
local failedAt
local function hset(key, list)
  for i = 1, #list, ${2 * HSET_PAIRS} do
    redis.call('HSET', key, unpack(list, i, math.min(i + ${2 * HSET_PAIRS - 1}, #list)))
  end
end
local function body()
  for _, g in ipairs(latest) do
    local vk, tk, f = g[1], g[2], g[3]
    local values, times = {}, {}
    for j = 1, #f, 3 do
      local held = redis.call('HGET', tk, f[j])
      if (not held) or tonumber(held) <= tonumber(f[j + 2]) then
        values[#values + 1] = f[j]
        values[#values + 1] = f[j + 1]
        times[#times + 1] = f[j]
        times[#times + 1] = f[j + 2]
        written = written + 1
      end
    end
    if #values > 0 then
      hset(vk, values)
      hset(tk, times)
    end
  end
  for i, e in ipairs(streams) do
    local sk, pos = e[1], e[2]
    failedAt = i
    if before[sk] == nil then
      before[sk] = tonumber(redis.call('HGET', sk .. ':applied', origin) or '-1')
      highest[sk] = before[sk]
    end
    if pos > before[sk] then
      redis.call('XADD', sk, 'MAXLEN', '~', maxlen, '*', unpack(e[3]))
      if pos > highest[sk] then highest[sk] = pos end
      appended = appended + 1
    else
      skipped = skipped + 1
    end
  end
  failedAt = nil
end
local ok, err = pcall(body)
if failedAt ~= nil then
  -- Failed at entry failedAt: it and those after it were not (all) appended. The lowest of their positions per
  -- stream bounds what is recorded, so the retry sends them again whole (an entry partly appended too).
  for j = failedAt, #streams do
    local sk, pos = streams[j][1], streams[j][2]
    if highest[sk] ~= nil and (pending[sk] == nil or pos < pending[sk]) then pending[sk] = pos end
  end
end
for sk, pos in pairs(highest) do
  if pending[sk] ~= nil and pending[sk] - 1 < pos then pos = pending[sk] - 1 end
  if pos > before[sk] then
    redis.call('HSET', sk .. ':applied', origin, string.format('%.0f', pos))
  end
end
if not ok then
  if type(err) == 'table' and err.err then return redis.error_reply(err.err) end
  return redis.error_reply(tostring(err))
end
return { written, appended, skipped }
`;
