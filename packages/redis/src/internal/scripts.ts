/**
 * The Lua scripts behind every slot operation: each runs atomically on the server, so reading a token with its
 * remaining lifetime, taking a lease, storing a token while giving up the lease, and the compare-and-delete of a
 * lease or a token cannot interleave with another process. A value of the wrong type under a key (someone else's
 * data) reads as no token and is overwritten by the next publish.
 *
 * @internal
 */

/** KEYS: token. Returns `[value, pttl]`, or `[false, -2]` without a readable value. @internal */
export const read = `
local value = redis.pcall('GET', KEYS[1])
if type(value) ~= 'string' then return {false, -2} end
return {value, redis.call('PTTL', KEYS[1])}
`

/**
 * KEYS: lease, token. ARGV: owner id, lease milliseconds, the digest of the token the caller last read (`*`: do not
 * check). Returns -1 when claimed; 0 when the stored token changed since the caller read it (someone published:
 * read again instead of fetching); else the lease's remaining milliseconds (at least 1).
 *
 * @internal
 */
export const claim = `
if ARGV[3] ~= '*' then
  local value = redis.pcall('GET', KEYS[2])
  local digest = ''
  if type(value) == 'string' and string.sub(value, 65, 65) == ':' then digest = string.sub(value, 1, 64) end
  if digest ~= ARGV[3] then return 0 end
end
-- A lease no holder of ours could have set (not a string, no expiry, or longer than a lease) is taken over: left
-- alone it would hold every process up forever.
local kind = redis.call('TYPE', KEYS[1])['ok']
local left = redis.call('PTTL', KEYS[1])
if kind ~= 'none' and (kind ~= 'string' or left < 0 or left > tonumber(ARGV[2])) then redis.call('DEL', KEYS[1]) end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return -1 end
left = redis.call('PTTL', KEYS[1])
if left < 1 then left = 1 end
return left
`

/**
 * KEYS: token, lease. ARGV: stored value, time to live in milliseconds, owner id, channel, message. Stores the token
 * (when it has time left) and announces it, and deletes the lease if this owner still holds it.
 *
 * @internal
 */
export const publish = `
if tonumber(ARGV[2]) > 0 then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  redis.call('PUBLISH', ARGV[4], ARGV[5])
end
if redis.pcall('GET', KEYS[2]) == ARGV[3] then redis.call('DEL', KEYS[2]) end
return 1
`

/** KEYS: lease. ARGV: owner id. Deletes the lease if this owner still holds it; 1 when it did. @internal */
export const release = `
if redis.pcall('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`

/**
 * KEYS: token. ARGV: digest, channel, message. Deletes the token and announces the removal only if the stored one
 * has this digest; 1 when it did.
 *
 * @internal
 */
export const invalidate = `
local value = redis.pcall('GET', KEYS[1])
if type(value) == 'string' and string.sub(value, 1, 64) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', ARGV[2], ARGV[3])
  return 1
end
return 0
`
