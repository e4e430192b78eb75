-- wrk script for GET /v1/check (nginx auth_request style): every request
-- carries the grant token and its own DPoP proof, read from the file named
-- by the PROOFS environment variable (one per line, see make_proofs.mjs).
-- Threads take disjoint proofs, so no proof is ever sent twice.
-- Environment: PROOFS, TOKEN_FILE, WRK_THREADS, CHECK_SERVICE, CHECK_URI,
-- CHECK_HOST.
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
end

local function read_first_line(path)
  local f = assert(io.open(path, "r"))
  local line = f:read("*l")
  f:close()
  return line
end

function init(args)
  proofs = {}
  -- WRK_THREADS must equal wrk's -t: thread `id` takes every
  -- WRK_THREADS-th proof.
  local nthreads = tonumber(os.getenv("WRK_THREADS"))
  local i = 0
  for line in io.lines(os.getenv("PROOFS")) do
    i = i + 1
    if (i % nthreads) == (id - 1) then
      proofs[#proofs + 1] = line
    end
  end
  next_proof = 0
  token = read_first_line(os.getenv("TOKEN_FILE"))
  service = os.getenv("CHECK_SERVICE")
  uri = os.getenv("CHECK_URI")
  host = os.getenv("CHECK_HOST")
end

function request()
  next_proof = next_proof + 1
  -- Past the last proof, requests reuse one and are refused (counted as
  -- non-2xx by wrk): size the proof file for the run.
  local proof = proofs[math.min(next_proof, #proofs)]
  return wrk.format("GET", "/v1/check", {
    ["Authorization"] = "DPoP " .. token,
    ["DPoP"] = proof,
    ["X-Original-Method"] = "GET",
    ["X-Original-URI"] = uri,
    ["X-Warden-Service"] = service,
    ["Host"] = host,
  })
end
