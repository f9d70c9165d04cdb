-- Send the paths given after "--" in turn, one per request (used by the soak).
-- Each request is formatted once in init(); request() only picks the next one.
local prepared = {}
local count = 0

function init(args)
  for index, path in ipairs(args) do
    prepared[index] = wrk.format("GET", path)
  end
end

function request()
  count = count % #prepared + 1
  return prepared[count]
end
