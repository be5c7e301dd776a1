-- Distinct ~2.5 KB webhook bodies shaped like the reference's message-replied payload (a
-- lead with a long history), so every request is a new webhook, never a duplicate.
local counter = 0
local thread_tag = tostring(math.random(1, 1e9))

local function history(n)
  local items = {}
  for i = 1, n do
    items[#items + 1] = string.format(
      '        {\n          "action": "Send Message",\n          "action_time": "2026-03-%02dT12:00:00.000Z"\n        }', (i % 28) + 1)
  end
  return table.concat(items, ",\n")
end
local activity = history(14)

request = function()
  counter = counter + 1
  local id = thread_tag .. "-" .. counter
  local body = '{\n  "event": "message-replied",\n  "company_id": "67787093-cc3a-44ca-8a12-5bf1afa3194c",\n' ..
    '  "timestamp": "2026-03-24T14:20:00.000Z",\n  "data": {\n    "actionData": {\n' ..
    '      "replay_message": "Hey! Sure, I\'d love to hear more about it. ' .. id .. '"\n    },\n' ..
    '    "lead": {\n      "id": "lead-' .. id .. '",\n      "name": "Rahul Sharma",\n' ..
    '      "profile_url": "https://linkedin.com/in/rahulsharma",\n      "email": "rahul@example.com",\n' ..
    '      "latest_status": "Replied",\n      "activity": [\n' .. activity .. '\n      ],\n' ..
    '      "company_name": "Infosys",\n      "location": "Bangalore",\n      "job_title": "Senior Software Engineer",\n' ..
    '      "profile_image": "https://media.licdn.com/dms/image/sample1.jpg"\n    },\n' ..
    '    "campaign": {\n      "id": "cccccccc-1111-2222-3333-cccccccccccc",\n      "name": "Q1 LinkedIn Outreach",\n' ..
    '      "campaign_type": "linkedin",\n      "total_leads": 150,\n      "complete_end_of_sequence": 12\n    },\n' ..
    '    "sender": {\n      "id": "aaaaaaaa-1111-2222-3333-aaaaaaaaaaaa",\n      "name": "Ravi Mehta",\n' ..
    '      "email": "ravi@example.com"\n    }\n  }\n}'
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end

-- Count non-2xx answers so a run that only produced errors cannot pass for a fast one.
local errors = 0
response = function(status, headers, body)
  if status ~= 200 then errors = errors + 1 end
end
done = function(summary, latency, requests)
  io.write(string.format("non2xx %d\n", summary.errors.status))
end
